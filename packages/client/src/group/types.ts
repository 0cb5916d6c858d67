/** The group call's public types: its members (peers), its events, and the options a mesh runs with. */
import type { ChannelParam, ChannelPreset, IceParam, RTCEvent } from '../types.js';

export interface GroupPeer {
  readonly cid: string;
  readonly user_id: string | null;
  readonly name: string | null;
  /** The peer connection's state (`new` until the call has one). */
  state: RTCPeerConnectionState;
  /** The peer connection, once the call has one. */
  target: RTCPeerConnection | null;
  /** The call's data channels by label, once accepted. */
  channels: Record<string, RTCDataChannel>;
  /** Streams received from this peer. */
  streams: MediaStream[];
  /** The call id of this pair, once placed or received. */
  call: string | null;
}

/** `left`: it left (or hung up); `gone`: its realtime connection left the group or died; otherwise why its call ended (rtc:closed reasons, RTC_* codes). */
export type GroupPeerLeftReason = 'left' | 'gone' | 'peer_gone' | 'ice_failed' | 'error' | (string & {});

export type GroupCallEvent =
  | { type: 'peer:joined'; peer: GroupPeer }
  | { type: 'peer:connected'; peer: GroupPeer }
  | { type: 'peer:state'; peer: GroupPeer; state: RTCPeerConnectionState }
  | { type: 'peer:track'; peer: GroupPeer; track: MediaStreamTrack; streams: readonly MediaStream[] }
  | { type: 'peer:message'; peer: GroupPeer; label: string; data: unknown }
  | { type: 'peer:left'; peer: GroupPeer; reason: GroupPeerLeftReason }
  /** Every event of the pair's call, as connectRTC's callback gets it. */
  | { type: 'peer:rtc'; peer: GroupPeer; event: RTCEvent }
  | { type: 'closed' };

export type GroupCallCallback = (event: GroupCallEvent) => void;

export interface MeshOptions {
  stream: MediaStream | null;
  channels: ChannelParam[] | ChannelPreset | undefined;
  ice: IceParam | undefined;
  iceTransportPolicy: RTCIceTransportPolicy | undefined;
  max: number;
  /** Tracks the SDK opened for this group call (stopped on leave). */
  owned: MediaStreamTrack[];
}
