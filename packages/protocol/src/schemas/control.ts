import * as v from 'valibot';
import { candidateSignal, descriptionSignal } from './common.js';

/**
 * The peer-to-peer control channel (a negotiated data channel, `CONTROL_CHANNEL`): small JSON
 * objects discriminated by `t`, one schema each. The browser SDK checks them with the equivalent
 * valibot-free `parseControlMessage` (control.ts); a protocol test keeps both in agreement.
 */
export const controlSchemas = {
  /** The sender ends the call (works while the signaling server is unreachable). */
  hangup: v.object({ t: v.literal('hangup'), reason: v.string() }),
  /** "Are you still there?" (the Node side's heartbeat, and the check after the server says peer_gone). */
  ping: v.object({ t: v.literal('ping'), n: v.number() }),
  pong: v.object({ t: v.literal('pong'), n: v.number() }),
  /** The sender's new connection id after a realtime reconnect: signal it there. */
  cid: v.object({ t: v.literal('cid'), cid: v.pipe(v.string(), v.startsWith('cid:')) }),
  /** A description or candidate sent peer to peer while the realtime connection is down. */
  signal: v.object({ t: v.literal('signal'), signal: v.variant('kind', [descriptionSignal, candidateSignal]) }),
  /** What the sender's WebRTC stack can do; `iceRestart: false` asks the peer to renew instead of restarting ICE. */
  caps: v.object({ t: v.literal('caps'), iceRestart: v.boolean() }),
} as const;

export const controlMessageSchema = v.variant('t', Object.values(controlSchemas));

export type ControlMessageType = keyof typeof controlSchemas;
export type ControlMessage = { [T in ControlMessageType]: v.InferOutput<(typeof controlSchemas)[T]> }[ControlMessageType];
/** The signals the control channel carries. */
export type PeerSignal = Extract<ControlMessage, { t: 'signal' }>['signal'];
