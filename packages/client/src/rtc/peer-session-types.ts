/** What a PeerSession is made with (its options) and what it tells its owner (its events). */
import type { SwitchboardError } from '@switchboard/protocol';
import type { RTCEvent } from '../types.js';
import type { CallChannels } from './app-channels.js';
import type { ChannelSpec } from './channels.js';
import type { ControlMessage, PeerSignal } from './control.js';
import type { LivenessOptions } from './liveness.js';

export interface PeerSessionOptions {
  RTCPeerConnection: new (config?: RTCConfiguration) => RTCPeerConnection;
  config: RTCConfiguration;
  polite: boolean;
  initialOfferer: boolean;
  channels: ChannelSpec[];
  stream: MediaStream | null;
  iceDisconnectGraceMs: number;
  maxIceRestarts: number;
  iceRestartTimeoutMs: number;
  /** Which peer connection of the call this is (0 first; see renewal in calls/renewal.ts). */
  generation?: number;
  /** The call's channel state, shared by its successive peer connections. */
  callChannels?: CallChannels;
  /** false where the stack cannot restart ICE in place: a restart asks for a renewal instead. */
  canRestartIce?: boolean;
  /** What the peer said (or an earlier peer connection of this call learned) about its stack. */
  peerCanRestartIce?: boolean;
  /** Restarts already spent by earlier peer connections of this call. */
  restartsSoFar?: number;
  /** A control-channel heartbeat, for stacks that never report `disconnected`. */
  liveness?: LivenessOptions | null;
}

export interface PeerSessionEvents extends Record<string, unknown> {
  /** A description or candidate for the other side. */
  signal: PeerSignal;
  /** An event for the app's RTC callback. */
  event: RTCEvent;
  /** A control message from the other side. */
  control: ControlMessage;
  controlopen: undefined;
  /** The control channel closed while the session was live: the other side's connection is gone. */
  controlclose: undefined;
  /** The app closed the peer connection itself (`target.close()`). */
  localclose: undefined;
  health: 'connected' | 'reconnecting';
  /** The path needs a restart that one of the two stacks cannot do in place: replace the peer connection. */
  renew: { restarts: number };
  /** ICE failed after the allowed restarts. */
  failed: SwitchboardError;
  /** Something went wrong that the algorithm tolerates (logged by the owner if it wants). */
  warning: { message: string; error: unknown };
}
