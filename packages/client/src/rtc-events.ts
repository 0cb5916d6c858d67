/** The RTC callback's events: Skapi's types and fields, one member per `type` (part of the public types). */

/**
 * The peer connection's states on every peer-connection event. `connectionState` is Skapi's
 * name for the ICE connection state (kept for compatibility); `iceState` says what it is.
 * A call that ends reports `closed` for all of them.
 */
export interface RtcPeerStates {
  connectionState: RTCIceConnectionState;
  iceState: RTCIceConnectionState;
  gatheringState: RTCIceGatheringState;
  signalingState: RTCSignalingState | 'closed';
}

export interface RtcTrackEvent {
  type: 'track';
  target: RTCPeerConnection;
  timeStamp: number;
  timestamp: string;
  streams: readonly MediaStream[];
  track: MediaStreamTrack;
  transceiver: RTCRtpTransceiver;
  receiver: RTCRtpReceiver;
}

export interface RtcIceCandidateEvent extends Pick<RtcPeerStates, 'gatheringState' | 'connectionState'> {
  type: 'icecandidate';
  target: RTCPeerConnection;
  timestamp: string;
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
  usernameFragment: string | null;
  protocol: RTCIceProtocol | null;
}

export interface RtcIceCandidateEndEvent extends Pick<RtcPeerStates, 'gatheringState'> {
  type: 'icecandidateend';
  target: RTCPeerConnection;
  timestamp: string;
}

export interface RtcIceCandidateErrorEvent extends Pick<RtcPeerStates, 'gatheringState' | 'connectionState'> {
  type: 'icecandidateerror';
  target: RTCPeerConnection;
  timestamp: string;
  errorCode: number;
  errorText: string;
  url: string;
  address: string | null;
  port: number | null;
  hostCandidate: string | null;
}

/** `iceconnectionstatechange`, `icegatheringstatechange`, `signalingstatechange` (with the new `state`) and `negotiationneeded`. */
export type RtcStateEvent = RtcPeerStates & { target: RTCPeerConnection; timestamp: string } & (
    | { type: 'iceconnectionstatechange'; state: RTCIceConnectionState }
    | { type: 'icegatheringstatechange'; state: RTCIceGatheringState }
    | { type: 'signalingstatechange'; state: RTCSignalingState }
    | { type: 'negotiationneeded' }
  );

/** `closed` is also synthesised when a call ends (`target` null when it ended before it had a peer connection). */
export interface RtcConnectionStateEvent extends RtcPeerStates {
  type: 'connectionstatechange';
  target: RTCPeerConnection | null;
  timestamp: string;
  state: RTCPeerConnectionState;
}

interface RtcChannelEventBase {
  target: RTCDataChannel;
  timeStamp: number;
  /** The channel's label (which channel of the call this is about). */
  label: string;
  readyState: RTCDataChannelState;
}

export type RtcChannelEvent = RtcChannelEventBase &
  (
    | { type: 'open'; id: number | null; ordered: boolean; maxRetransmits: number | null; maxPacketLifeTime: number | null; protocol: string }
    | { type: 'message'; data: unknown; lastEventId: string; origin: string; bufferedAmount: number }
    | { type: 'close'; id: number | null }
    | { type: 'bufferedamountlow'; bufferedAmount: number; bufferedAmountLowThreshold: number }
    | { type: 'error'; error: string; errorCode: RTCErrorDetailType | null }
  );

/**
 * Events passed to the RTC callback: Skapi's types and fields (see skapi-api-notes §3.3, §3.4),
 * discriminated by `type` (`e.type === 'track'` gives `e.streams`, `'message'` gives `e.data`).
 */
export type RTCEvent =
  RtcTrackEvent | RtcIceCandidateEvent | RtcIceCandidateEndEvent | RtcIceCandidateErrorEvent | RtcStateEvent | RtcConnectionStateEvent | RtcChannelEvent;
