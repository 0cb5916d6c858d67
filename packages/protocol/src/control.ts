/**
 * The control channel's messages without valibot, for the browser SDK: `parseControlMessage`
 * accepts exactly what `controlMessageSchema` (schemas/control.ts) accepts; a protocol test
 * runs both over one corpus. Unknown or malformed messages are null (the receiver ignores them).
 */
import { isJsonObject } from './is-object.js';
import { CANDIDATE_MAX, SDP_MAX } from './limits.js';
import type { ControlMessage } from './schemas/control.js';

export type { ControlMessage, ControlMessageType, PeerSignal } from './schemas/control.js';

/** The negotiated data channel both peers create with the peer connection (never seen by the app). */
export const CONTROL_LABEL = '__switchboard';
export const CONTROL_ID = 1023;
/** Larger messages are ignored unread. */
export const CONTROL_MAX_CHARS = 128 * 1024;

const isStr = (x: unknown, max: number): boolean => typeof x === 'string' && x.length <= max;
const isInt = (x: unknown, max: number): boolean => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= max;
/** valibot's optional(nullable(…)): absent, undefined or null pass. */
const orNull = (x: unknown, ok: boolean): boolean => x == null || ok;

function isPeerSignal(s: unknown): boolean {
  if (!isJsonObject(s) || !(s['pc'] === undefined || isInt(s['pc'], 65535))) return false;
  const d = s['description'];
  const c = s['candidate'];
  if (s['kind'] === 'description') {
    return isJsonObject(d) && ['offer', 'answer', 'pranswer', 'rollback'].includes(d['type'] as string) && (d['sdp'] === undefined || isStr(d['sdp'], SDP_MAX));
  }
  return (
    s['kind'] === 'candidate' &&
    (c === null ||
      (isJsonObject(c) &&
        isStr(c['candidate'], CANDIDATE_MAX) &&
        orNull(c['sdpMid'], isStr(c['sdpMid'], 64)) &&
        orNull(c['sdpMLineIndex'], isInt(c['sdpMLineIndex'], 1024)) &&
        orNull(c['usernameFragment'], isStr(c['usernameFragment'], 256))))
  );
}

/** Whether a parsed value is a control message. */
export function isControlMessage(m: unknown): m is ControlMessage {
  if (!isJsonObject(m)) return false;
  switch (m['t']) {
    case 'hangup':
      return typeof m['reason'] === 'string';
    case 'ping':
    case 'pong':
      return typeof m['n'] === 'number';
    case 'cid':
      return typeof m['cid'] === 'string' && m['cid'].startsWith('cid:');
    case 'caps':
      return typeof m['iceRestart'] === 'boolean';
    case 'signal':
      return isPeerSignal(m['signal']);
    default:
      return false;
  }
}

/** A control channel message from its text, or null. Never throws. */
export function parseControlMessage(data: unknown): ControlMessage | null {
  if (typeof data !== 'string' || data.length > CONTROL_MAX_CHARS) return null;
  try {
    const value: unknown = JSON.parse(data);
    return isControlMessage(value) ? value : null;
  } catch {
    return null;
  }
}
