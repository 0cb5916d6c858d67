/**
 * RTC callback events with Skapi's types and field names (skapi-api-notes §3.3, §3.4).
 * Skapi's misleading `connectionState` (really the ICE connection state) is kept for
 * compatibility; `iceState`, `gatheringState` and `signalingState` say what they are.
 */
import type {
  RtcChannelEvent,
  RtcConnectionStateEvent,
  RtcIceCandidateEndEvent,
  RtcIceCandidateErrorEvent,
  RtcIceCandidateEvent,
  RtcPeerStates,
  RtcStateEvent,
  RtcTrackEvent,
} from '../rtc-events.js';

const now = (): string => new Date().toISOString();

function pcStates(pc: RTCPeerConnection): RtcPeerStates {
  return {
    connectionState: pc.iceConnectionState,
    iceState: pc.iceConnectionState,
    gatheringState: pc.iceGatheringState,
    signalingState: pc.signalingState,
  };
}

export function trackEvent(pc: RTCPeerConnection, e: RTCTrackEvent): RtcTrackEvent {
  return {
    type: 'track',
    target: pc,
    timeStamp: e.timeStamp,
    timestamp: now(),
    streams: e.streams,
    track: e.track,
    transceiver: e.transceiver,
    receiver: e.receiver,
  };
}

export function candidateEvent(pc: RTCPeerConnection, candidate: RTCIceCandidate): RtcIceCandidateEvent {
  return {
    type: 'icecandidate',
    target: pc,
    timestamp: now(),
    candidate: candidate.candidate,
    sdpMid: candidate.sdpMid,
    sdpMLineIndex: candidate.sdpMLineIndex,
    usernameFragment: candidate.usernameFragment,
    protocol: candidate.protocol,
    gatheringState: pc.iceGatheringState,
    connectionState: pc.iceConnectionState,
  };
}

export function candidateEndEvent(pc: RTCPeerConnection): RtcIceCandidateEndEvent {
  return { type: 'icecandidateend', target: pc, timestamp: now(), gatheringState: pc.iceGatheringState };
}

export function candidateErrorEvent(pc: RTCPeerConnection, e: RTCPeerConnectionIceErrorEvent): RtcIceCandidateErrorEvent {
  return {
    type: 'icecandidateerror',
    target: pc,
    timestamp: now(),
    errorCode: e.errorCode,
    errorText: e.errorText,
    url: e.url,
    address: e.address,
    port: e.port,
    hostCandidate: e.address ? `${e.address}:${e.port ?? ''}` : null,
    gatheringState: pc.iceGatheringState,
    connectionState: pc.iceConnectionState,
  };
}

/** `iceconnectionstatechange`, `icegatheringstatechange`, `signalingstatechange`, `negotiationneeded`. */
export function stateEvent(pc: RTCPeerConnection, type: RtcStateEvent['type']): RtcStateEvent {
  const states = pcStates(pc);
  const state =
    type === 'iceconnectionstatechange'
      ? pc.iceConnectionState
      : type === 'icegatheringstatechange'
        ? pc.iceGatheringState
        : type === 'signalingstatechange'
          ? pc.signalingState
          : undefined;
  const event = { type, target: pc, timestamp: now(), ...states } as RtcStateEvent & { state?: string };
  if (state !== undefined) event.state = state;
  return event;
}

/** `connectionstatechange`; `closed` is also synthesised when a call ends. */
export function connectionStateEvent(pc: RTCPeerConnection, synthetic?: 'closed'): RtcConnectionStateEvent {
  return {
    type: 'connectionstatechange',
    target: pc,
    timestamp: now(),
    state: synthetic ?? pc.connectionState,
    iceState: synthetic ?? pc.iceConnectionState,
    signalingState: synthetic ?? pc.signalingState,
    connectionState: synthetic ?? pc.iceConnectionState,
    gatheringState: pc.iceGatheringState,
  };
}

/** The synthetic `connectionstatechange` `closed` of a call that ended before it had a peer connection. */
export function closedBeforePickup(): RtcConnectionStateEvent {
  return {
    type: 'connectionstatechange',
    target: null,
    timestamp: now(),
    state: 'closed',
    iceState: 'closed',
    signalingState: 'closed',
    connectionState: 'closed',
    gatheringState: 'new',
  };
}

function channelBase(channel: RTCDataChannel, e: Event) {
  return { type: e.type, target: channel, timeStamp: e.timeStamp, label: channel.label, readyState: channel.readyState };
}

export function channelEvent(channel: RTCDataChannel, e: Event): RtcChannelEvent {
  const base = channelBase(channel, e);
  // Each case builds the member of the union its `type` names; the default is unreachable (CHANNEL_EVENTS).
  switch (e.type) {
    case 'open':
      return {
        ...base,
        id: channel.id,
        ordered: channel.ordered,
        maxRetransmits: channel.maxRetransmits,
        maxPacketLifeTime: channel.maxPacketLifeTime,
        protocol: channel.protocol,
      } as RtcChannelEvent;
    case 'message': {
      const m = e as MessageEvent;
      return { ...base, data: m.data, lastEventId: m.lastEventId, origin: m.origin, bufferedAmount: channel.bufferedAmount } as RtcChannelEvent;
    }
    case 'close':
      return { ...base, id: channel.id } as RtcChannelEvent;
    case 'bufferedamountlow':
      return { ...base, bufferedAmount: channel.bufferedAmount, bufferedAmountLowThreshold: channel.bufferedAmountLowThreshold } as RtcChannelEvent;
    case 'error': {
      const err = (e as RTCErrorEvent).error as (RTCError & { message?: string }) | undefined;
      return { ...base, error: err?.message ?? 'Data channel error', errorCode: err?.errorDetail ?? null } as RtcChannelEvent;
    }
    default:
      return base as RtcChannelEvent;
  }
}
