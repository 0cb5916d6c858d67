/**
 * The control channel: a negotiated data channel (label `__switchboard`, id 1023,
 * reliable and ordered) that both sides create with the peer connection, so it needs
 * no `ondatachannel` and is never visible in `channels` or in RTC callback events.
 *
 * It carries what must not depend on the signaling server:
 * - `hangup`: the other side ends the call at once, even when the server is down;
 * - `ping`/`pong`: "are you still there?" when the server says the peer is gone
 *   (its realtime connection dropped, but the call may be alive);
 * - `cid`: our new connection id after a realtime reconnect, so the peer signals us there;
 * - `signal`: description/candidate signals while the realtime connection is down;
 * - `caps`: what this side's WebRTC stack can do (`iceRestart: false` on libdatachannel, so
 *   the peer renews the peer connection instead of restarting ICE; see calls/renewal.ts).
 *
 * Messages are small JSON objects, validated on receipt (unknown ones are ignored).
 */
import type { RtcSignal } from '@switchboard/protocol';
import { CONTROL_ID, CONTROL_LABEL } from './channels.js';

export type PeerSignal = Extract<RtcSignal, { kind: 'description' | 'candidate' }>;

export type ControlMessage =
  | { t: 'hangup'; reason: string }
  | { t: 'ping'; n: number }
  | { t: 'pong'; n: number }
  | { t: 'cid'; cid: string }
  | { t: 'signal'; signal: PeerSignal }
  | { t: 'caps'; iceRestart: boolean };

export function createControlChannel(pc: RTCPeerConnection): RTCDataChannel {
  return pc.createDataChannel(CONTROL_LABEL, { negotiated: true, id: CONTROL_ID, ordered: true });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPeerSignal(value: unknown): value is PeerSignal {
  if (!isObject(value)) return false;
  if (value.kind === 'description') {
    const d = value.description;
    return isObject(d) && typeof d.type === 'string' && (d.sdp === undefined || typeof d.sdp === 'string');
  }
  if (value.kind === 'candidate') {
    const c = value.candidate;
    return c === null || (isObject(c) && typeof c.candidate === 'string');
  }
  return false;
}

export function parseControl(data: unknown): ControlMessage | null {
  if (typeof data !== 'string' || data.length > 128 * 1024) return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  switch (value.t) {
    case 'hangup':
      return typeof value.reason === 'string' ? { t: 'hangup', reason: value.reason } : null;
    case 'ping':
    case 'pong':
      return typeof value.n === 'number' ? { t: value.t, n: value.n } : null;
    case 'cid':
      return typeof value.cid === 'string' && value.cid.startsWith('cid:') ? { t: 'cid', cid: value.cid } : null;
    case 'caps':
      return typeof value.iceRestart === 'boolean' ? { t: 'caps', iceRestart: value.iceRestart } : null;
    case 'signal':
      return isPeerSignal(value.signal) ? { t: 'signal', signal: value.signal } : null;
    default:
      return null;
  }
}

/** Resolves once the channel's send buffer is empty (or after `maxMs`), so a close does not drop it. */
export function drain(channel: RTCDataChannel, maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    const started = Date.now();
    const tick = (): void => {
      if (channel.readyState !== 'open' || channel.bufferedAmount === 0 || Date.now() - started >= maxMs) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
}
