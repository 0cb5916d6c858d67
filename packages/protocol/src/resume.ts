/**
 * Session resume (docs/adr/0008-resume.md): after a drop the client reopens the realtime socket
 * with `?resume=<token>&lastSeq=<n>`; the welcome says whether the same cid was re-attached.
 */

/** Query parameter carrying the `welcome.resume` token of the connection to resume. */
export const RESUME_PARAM = 'resume';
/** Query parameter carrying the highest `seq` the client has processed (0: none). */
export const LAST_SEQ_PARAM = 'lastSeq';

/**
 * Why a resume was refused (`welcome.resumeReason`). The client then has a new cid and
 * starts over (re-join, fail the requests that were in flight). A newer server may send a
 * reason not listed here: treat it like any other refusal.
 */
export const RESUME_REASONS = {
  invalid_token: 'The token is malformed, forged, or belongs to another user.',
  epoch_changed: 'The server lost its resume state since the token was issued (restart, Redis flushed).',
  expired: 'The resume window passed: the connection was disconnected and its group told.',
  taken_over: 'The connection was already resumed by a newer socket with this token.',
  invalid_seq: 'lastSeq is missing, not a whole number, or beyond what the server sent.',
  overflowed: 'More frames were sent to the connection than its replay buffer holds.',
  gap_expired: 'Frames the client missed are older than the replay buffer keeps.',
  disabled: 'Resume is turned off on this server.',
} as const;

export type ResumeReason = keyof typeof RESUME_REASONS;

export function isResumeReason(value: unknown): value is ResumeReason {
  return typeof value === 'string' && Object.hasOwn(RESUME_REASONS, value);
}
