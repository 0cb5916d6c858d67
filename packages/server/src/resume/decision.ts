/**
 * The resume decision, as a pure function: all or nothing. A resume succeeds only when every
 * frame the client missed (lastSeq+1 … topSeq) is still buffered; otherwise the answer names
 * why, and the client starts over under a new cid. The memory replay store calls this
 * directly; the Redis one runs the same checks, in the same order, inside its claim script
 * (redis-scripts.ts) so that the check and the takeover are one atomic step. Both are tested
 * against one table (test/resume/decision-table.ts).
 */
import { LAST_SEQ_PARAM, RESUME_PARAM, type ResumeReason } from '@switchboard/protocol';
import type { ResumeClaims } from './token.js';

/** What the replay store knows about one resumable connection. */
export interface HoldSnapshot {
  userId: string;
  generation: number;
  /** Store clock (ms) when its socket went away; null while a socket holds it. */
  awaySince: number | null;
  /** Seq of the last frame sent to the connection (0: none yet). */
  topSeq: number;
  /** Seq of the oldest frame still buffered; topSeq + 1 when the buffer is empty. */
  firstSeq: number;
  /** Highest seq evicted because the buffer was full (frames or bytes); 0: none. */
  overflowThrough: number;
}

export type ResumeDecision = { resumed: true; from: number; to: number } | { resumed: false; reason: ResumeReason };

export interface DecisionInput {
  /** The verified token, or null when it did not verify. */
  claims: ResumeClaims | null;
  /** The store's current epoch. */
  epoch: string;
  hold: HoldSnapshot | null;
  /** From the query; NaN when missing or not a whole number. */
  lastSeq: number;
  now: number;
  windowMs: number;
}

const refuse = (reason: ResumeReason): ResumeDecision => ({ resumed: false, reason });

export function decideResume({ claims, epoch, hold, lastSeq, now, windowMs }: DecisionInput): ResumeDecision {
  if (windowMs <= 0) return refuse('disabled');
  if (claims === null) return refuse('invalid_token');
  if (claims.epoch !== epoch) return refuse('epoch_changed');
  // Same epoch but no hold: it was released (window passed, or a refused resume gave it up).
  if (hold === null) return refuse('expired');
  if (hold.userId !== claims.userId) return refuse('invalid_token');
  if (hold.awaySince !== null && now - hold.awaySince > windowMs) return refuse('expired');
  if (hold.generation !== claims.generation) return refuse('taken_over');
  if (!Number.isSafeInteger(lastSeq) || lastSeq < 0 || lastSeq > hold.topSeq) return refuse('invalid_seq');
  // The first missed frame is lastSeq + 1: was it (or a later missed one) pushed out?
  if (lastSeq < hold.overflowThrough) return refuse('overflowed');
  if (lastSeq + 1 < hold.firstSeq) return refuse('gap_expired');
  return { resumed: true, from: lastSeq + 1, to: hold.topSeq };
}

/**
 * A refused resume after which the old hold is of no use to anyone: release it at once (the
 * usual disconnect: USER_DISCONNECTED, calls hung up) instead of waiting for the window.
 * Not for `taken_over`: that hold belongs to the newer socket.
 */
export function releasesHold(reason: ResumeReason): boolean {
  return reason === 'expired' || reason === 'invalid_seq' || reason === 'overflowed' || reason === 'gap_expired';
}

export interface ResumeRequest {
  token: string;
  /** NaN when missing or malformed (the decision answers `invalid_seq`). */
  lastSeq: number;
}

/** `?resume=<token>&lastSeq=<n>` from the upgrade URL; null when the client did not ask to resume. */
export function parseResumeRequest(params: URLSearchParams): ResumeRequest | null {
  const token = params.get(RESUME_PARAM);
  if (token === null || token === '') return null;
  const raw = params.get(LAST_SEQ_PARAM) ?? '';
  return { token, lastSeq: /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN };
}
