/** Why calls end: reasons, the errors they map to, and what a peer may say. */
import { isErrorCode, SwitchboardError, type ErrorCode, type RtcSignal } from '@switchboard/protocol';
import type { RealtimeEvent, RtcEndReason } from '../types.js';

export type HangupReason = NonNullable<Extract<RtcSignal, { kind: 'hangup' }>['reason']>;

/** The `_elsewhere` reasons (a callee device's call taken by another) end as `closed` does. */
export const END_ERRORS: Record<Exclude<RtcEndReason, `${string}_elsewhere`>, [ErrorCode, string]> = {
  rejected: ['RTC_REJECTED', 'The callee declined the call.'],
  busy: ['RTC_BUSY', 'The callee is busy.'],
  cancelled: ['RTC_CANCELLED', 'The call was cancelled: it was hung up while ringing.'],
  timeout: ['RTC_TIMEOUT', 'Nobody answered the call within the ring timeout.'],
  peer_gone: ['RTC_PEER_GONE', "The other side's connection went away."],
  ice_failed: ['RTC_ICE_FAILED', 'No network path between the peers (ICE failed); a TURN server is probably missing or unreachable.'],
  hangup: ['RTC_REJECTED', 'The callee hung up.'],
  error: ['RTC_PEER_GONE', 'The call ended with an error.'],
  closed: ['RTC_CANCELLED', 'The call was closed.'],
};

export const ABNORMAL = new Set<RtcEndReason>(['peer_gone', 'ice_failed', 'error']);
export const HANGUP_REASONS = new Set<string>([
  'hangup',
  'cancelled',
  'timeout',
  'peer_gone',
  'ice_failed',
  'error',
  'answered_elsewhere',
  'declined_elsewhere',
]);

/** A hang-up reason from the wire (or the control channel); anything unknown is a plain hang-up. */
export function hangupReason(reason: string): HangupReason {
  return (HANGUP_REASONS.has(reason) ? reason : 'hangup') as HangupReason;
}

export function endError(reason: RtcEndReason, wasRinging: boolean): SwitchboardError {
  const [code, message] = END_ERRORS[wasRinging && reason === 'hangup' ? 'rejected' : (reason as 'closed')] || END_ERRORS.closed;
  return new SwitchboardError(code, message);
}

/** The server refused an invite or accept: one side already has its most ringing or active calls. */
export function tooManyCalls(refusal: SwitchboardError): SwitchboardError {
  return new SwitchboardError('TOO_MANY_CALLS', `The call could not start: ${refusal.message}`);
}

export function asError(error: unknown): SwitchboardError {
  if (error instanceof SwitchboardError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  return new SwitchboardError(isErrorCode(code) ? code : 'INTERNAL', error instanceof Error ? error.message : String(error));
}

/** The `rtc:closed` realtime event (once per call, whoever ended it). */
export function closedEvent(
  call: string,
  peer: { cid: string; user_id: string | null },
  hungup: string | null,
  reason: RtcEndReason,
  error: SwitchboardError | null,
): RealtimeEvent {
  return {
    type: 'rtc:closed',
    message: { hungup, reason, call, ...(error ? { error } : {}) },
    sender: peer.user_id,
    sender_cid: peer.cid,
    sender_rid: null,
    code: null,
  };
}
