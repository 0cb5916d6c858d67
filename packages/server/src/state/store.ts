/**
 * The state interface handlers talk to: connections, group membership,
 * user → connections, listings with paging, and calls. Every method is async
 * so a shared (e.g. Redis) adapter can implement it; the memory adapter is
 * the default. Socket delivery is separate (see delivery.ts).
 */
import type { RtcSignal, UserInfo } from '@switchboard/protocol';

export interface ConnectionRecord {
  cid: string;
  user: UserInfo;
  /** The node holding the socket (for routing in a cluster). */
  node: string;
  connectedAt: number;
  group: string | null;
}

export type CallState = 'ringing' | 'active';

export interface CallRecord {
  call: string;
  caller: string;
  callee: string;
  state: CallState;
  createdAt: number;
}

/** The per-connection call caps, checked atomically with the change they guard. */
export interface CallLimits {
  /** Ringing calls one connection may have placed. */
  maxRinging: number;
  /** Active calls one connection may take part in (as caller or callee). */
  maxActive: number;
  /** The caller's ringing calls created before this (ms) are stale: deleted, not counted. */
  staleBefore: number;
}

/** `exists`: the call is already known (nothing changed). `*_full`: the caller is at a cap. */
export type RingOutcome = 'ok' | 'exists' | 'ringing_full' | 'active_full';
/** `unchanged`: not a ringing call of this callee (nothing changed). `*_full`: that side is at maxActive. */
export type AcceptOutcome = 'ok' | 'unchanged' | 'not_found' | 'callee_full' | 'caller_full';

/**
 * A call placed to a user_id rather than to one connection: every connection of the user rings,
 * and so does each one that comes up while it rings (docs/api.md, "Ringing a user").
 */
export interface UserRing {
  call: string;
  /** The caller's connection and its user. */
  caller: string;
  from: UserInfo;
  /** The callee's user_id. */
  to: string;
  invite: Extract<RtcSignal, { kind: 'invite' }>;
  /** Unix ms after which it rings no more (forgotten). */
  expiresAt: number;
}

/** How a ring was settled: answered or declined on one connection, or cancelled (or timed out) by the caller. */
export type RingEnd = 'answered' | 'declined' | 'cancelled';

/** `won`: this claim settled the ring; `lost`: an earlier claim did (`end` is what that one did). */
export interface RingClaim {
  outcome: 'won' | 'lost';
  ring: UserRing;
  end: RingEnd;
  by: string;
}

export interface PageQuery {
  limit: number;
  /** Opaque cursor from a previous page, or 'end'. */
  startKey?: string | undefined;
  ascending: boolean;
}

export interface Page<T> {
  list: T[];
  /** Opaque cursor for the next page, or 'end'. */
  startKey: string;
  endOfList: boolean;
}

export type Condition = '>' | '>=' | '=' | '<' | '<=' | '!=';

export interface GroupFilter {
  searchFor: 'group' | 'number_of_users';
  value: string | number;
  condition: Condition;
  /** With a range, rows between `value` and `range` (inclusive) match; `condition` is ignored. */
  range?: string | number | undefined;
}

export interface UserRow {
  user_id: string;
  cid: string;
}

export interface GroupRow {
  group: string;
  number_of_users: number;
}

export interface Store {
  addConnection(record: ConnectionRecord): Promise<void>;
  /** Removes the connection, its membership and nothing else; returns what was removed. */
  removeConnection(cid: string): Promise<ConnectionRecord | null>;
  getConnection(cid: string): Promise<ConnectionRecord | null>;
  /**
   * Optional, for the synchronous relay path: the record as this process holds it, not copied
   * (read only); `undefined` when this store cannot answer without a round trip (then getConnection).
   */
  peekConnection?(cid: string): Readonly<ConnectionRecord> | null | undefined;
  userConnections(userId: string): Promise<string[]>;
  countUserConnections(userId: string): Promise<number>;
  /** Moves a connection to `group` (null leaves); returns the previous group. */
  setGroup(cid: string, group: string | null): Promise<string | null>;
  groupMembers(group: string): Promise<string[]>;
  groupExists(group: string): Promise<boolean>;
  counts(): Promise<{ connections: number; groups: number }>;
  listUsers(query: { group: string; user_id?: string | undefined } & PageQuery): Promise<Page<UserRow>>;
  listGroups(query: GroupFilter & PageQuery): Promise<Page<GroupRow>>;

  // Calls are indexed per connection (ringing calls placed, active calls taken part in) so
  // every call operation costs O(1) whatever the number of calls; only callsOf (used when a
  // connection goes away) walks a connection's calls.
  /** Upsert without caps. */
  putCall(record: CallRecord): Promise<void>;
  /** Adds a ringing call from record.caller unless it exists or the caller is at a cap. */
  ringCall(record: CallRecord, limits: CallLimits): Promise<RingOutcome>;
  /** Makes the ringing call `call` active when `callee` is its callee, unless either side has maxActive calls. */
  acceptCall(call: string, callee: string, caller: string, maxActive: number): Promise<AcceptOutcome>;
  /** Ringing calls the connection placed and active calls it takes part in. */
  callCounts(cid: string): Promise<{ ringing: number; active: number }>;
  /** The call `call` between two connections, in either direction. */
  getCall(call: string, cidA: string, cidB: string): Promise<CallRecord | null>;
  /** Optional, likewise: whether the call exists between the two connections; `undefined`: ask getCall. */
  peekCall?(call: string, cidA: string, cidB: string): boolean | undefined;
  deleteCall(call: string, cidA: string, cidB: string): Promise<void>;
  callsOf(cid: string): Promise<CallRecord[]>;

  // Calls to a user_id. The first claim settles a ring (first accept wins, across nodes); a settled
  // ring rings no new connection and is kept until it expires so later claims learn who won.
  /** Stores a ring until `ring.expiresAt`. */
  putRing(ring: UserRing): Promise<void>;
  /** The user's rings still ringing (not settled, not expired). */
  ringsFor(userId: string): Promise<UserRing[]>;
  /**
   * Settles the ring `call` by connection `by` of user `userId` unless already settled. Null: no
   * such ring (a call to one connection), or `by` is neither the caller nor a connection of the callee.
   */
  claimRing(call: string, by: string, userId: string, end: RingEnd): Promise<RingClaim | null>;

  close(): Promise<void>;
}
