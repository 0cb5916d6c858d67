/**
 * The rules of a group call's membership, kept free of I/O so they can be tested alone.
 *
 * Membership travels as small JSON messages in the joined realtime group (postRealtime), tagged
 * so the SDK recognises and consumes them before the app's callback:
 *   join   broadcast by a joiner                → every member answers `here` (or `full`) to its cid
 *   here   a member to the joiner: "I am in"    → the joiner records it
 *   full   a member to the joiner: the call is at its cap → the joiner gives up with GROUP_CALL_FULL
 *   leave  broadcast by a member that leaves    → everyone drops it at once
 * Crashes and lost connections need no message: the group's USER_LEFT / USER_DISCONNECTED notices
 * and the call layer's peer_gone remove the member.
 *
 * Who dials whom: of two members, the one whose cid sorts first dials. Both compute the same
 * answer from the same two cids, so two members never dial each other (no glare by construction),
 * and a late joiner is dialled by the members that sort before it and dials the others itself.
 */
export const GROUP_CALL_TAG = 'switchboard:group-call';
export const DEFAULT_MAX_PARTICIPANTS = 6;

export type GroupOp = 'join' | 'here' | 'full' | 'leave';

export interface GroupSignal {
  $switchboard: typeof GROUP_CALL_TAG;
  op: GroupOp;
  /** The sender's display name (the realtime message carries user_id and cid, not the name). */
  name: string | null;
}

const OPS: readonly string[] = ['join', 'here', 'full', 'leave'];

export function groupSignal(op: GroupOp, name: string | null): GroupSignal {
  return { $switchboard: GROUP_CALL_TAG, op, name };
}

/** The membership message in a realtime message, or null when it is an app message. */
export function parseGroupSignal(message: unknown): GroupSignal | null {
  if (typeof message !== 'object' || message === null) return null;
  const m = message as Partial<GroupSignal>;
  if (m.$switchboard !== GROUP_CALL_TAG || typeof m.op !== 'string' || !OPS.includes(m.op)) return null;
  return { $switchboard: GROUP_CALL_TAG, op: m.op, name: typeof m.name === 'string' ? m.name : null };
}

/** Whether `self` places the call to `other` (true for exactly one of the two). */
export function dials(self: string, other: string): boolean {
  return self < other;
}

/**
 * A member's answer to a join: `here`, or `full` when the call (this member and the peers it
 * knows, the joiner not counted) already has `max` participants.
 */
export function answerJoin(participants: number, max: number): 'here' | 'full' {
  return participants >= max ? 'full' : 'here';
}

/** `maxParticipants` checked: an integer from 2 (a 1:1 call) to 16 (a full mesh beyond that is not sensible). */
export function checkMax(value: unknown): number | string {
  if (value === undefined) return DEFAULT_MAX_PARTICIPANTS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 2 || value > 16) {
    return '"maxParticipants" should be an integer from 2 to 16.';
  }
  return value;
}
