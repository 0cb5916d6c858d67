/**
 * The replay store: per connection (cid), a *hold* (who may resume it, its resume generation,
 * whether a socket has it) and a bounded buffer of the sequenced frames sent to it. Every
 * sequenced frame for a cid goes through `append`, live socket or not; the buffer therefore
 * holds what a client may have missed whether it was in flight when the socket died or sent
 * while it was away. Two implementations: memory (memory-replay.ts) and Redis
 * (redis-replay.ts, one capped stream per cid, appended and published in one script).
 */
import type { OutboundFrame } from '../state/outbound-frame.js';
import type { ResumeReason } from '@switchboard/protocol';
import type { HoldSnapshot } from './decision.js';
import type { ResumeClaims } from './token.js';

export interface ReplayLimits {
  /** The resume window: an away hold older than this is expired (and released by the sweeper). */
  windowMs: number;
  /** Frames kept per cid; older ones are pushed out (an overflow: a resume needing them fails). */
  maxFrames: number;
  /** UTF-8 bytes of frames kept per cid (the frames as shared, without their seq). */
  maxBytes: number;
  /** Frames older than this are dropped (a resume needing them fails with gap_expired). */
  maxAgeMs: number;
}

/** A frame as buffered: the shared bytes without their seq (see frame.ts withSeq). */
export interface BufferedFrame {
  seq: number;
  data: Buffer;
}

/** `away`: marked away; `none`: no hold (resume off for it, or released); `newer`: resumed since. */
export type AwayResult = 'away' | 'none' | 'newer';

export interface Appended {
  cid: string;
  /** The frame's seq for this cid; 0 when the cid has no hold (resume off for it: send without seq). */
  seq: number;
  /** The node holding the cid's socket (Redis: from the routing table, already published to when remote); null in memory. */
  node: string | null;
  /** Redis, remote node: whether a subscriber of that node received the publish. */
  published?: boolean;
}

/** An ack's JSON around its `delivered` count, for the connection `cid` (see ReplayStore.appendWithAck). */
export interface AckTemplate {
  cid: string;
  head: string;
  tail: string;
}

export interface AppendedWithAck {
  appended: Appended[];
  /** The ack's seq for its cid and the count it carries; null: not buffered (the caller acks). */
  ack: { seq: number; delivered: number } | null;
}

export type ClaimResult =
  | {
      resumed: true;
      /** The generation of the new token. */
      generation: number;
      /** Frames lastSeq+1 … replayTo, in order. */
      replay: BufferedFrame[];
      replayTo: number;
      /** The node that held the cid before (Redis), so it can drop its socket without cleanup. */
      previousNode: string | null;
    }
  | { resumed: false; reason: ResumeReason };

export interface ReplayStore {
  readonly limits: ReplayLimits;
  /** The store's epoch; a new one after the store lost its state (restart, Redis flushed). */
  epoch(): Promise<string>;
  /** A new connection: generation 0, empty buffer, held by a socket on `node`. Returns the epoch for its token. */
  open(cid: string, userId: string, node: string): Promise<{ epoch: string; generation: number }>;
  /**
   * Appends `frame` to the buffer of each cid (in the order given, once per cid) and returns
   * each one's seq. Seqs of one cid follow the order of the appends.
   */
  append(cids: readonly string[], frame: OutboundFrame, group?: boolean): Promise<Appended[]>;
  /**
   * Optional: `append`, and in the same step the ack of the request that sent the frame, to
   * `ack.cid` (its sender, on this node): `ack.head`, the number of targets that took the frame,
   * `ack.tail`. Resolves with the ack's seq and that number, or null when the ack could not be
   * buffered with it (the caller acks as usual). A store where an ack costs a round trip of its
   * own (Redis) has it; one in this process's memory does not need it.
   */
  appendWithAck?(cids: readonly string[], frame: OutboundFrame, group: boolean, ack: AckTemplate): Promise<AppendedWithAck>;
  /**
   * Optional: `append` for one cid, done before it returns (a store in this process's memory), so
   * a relay to a local connection needs no promise. Returns the cid's seq (0: no hold).
   */
  appendNow?(cid: string, frame: OutboundFrame): number;
  /**
   * The client has every frame through `seq` (it answered a ping sent after them: delivery
   * probes, connection.ts), so they need not wait out the resume window in the buffer. Not
   * awaited: a store that cannot drop them now (Redis unreachable) leaves them to the limits.
   * `flushed`: the confirming socket has nothing left to write, so a frame only it was sent may
   * give its bytes back for reuse (TextFrame.letGo; the memory store).
   */
  received(cid: string, seq: number, flushed?: boolean): void;
  /**
   * The socket went away: the hold waits `windowMs` for a resume. With `generation`, only a hold
   * still at that generation (the closing socket's): `newer` when a resume already took it over.
   */
  away(cid: string, generation?: number): Promise<AwayResult>;
  /**
   * The socket is gone but nobody saw it close (its node died or left, or a restarted node found
   * it in its old entries): mark it away unless it already is (its window keeps running).
   * Resolves false when the cid has no hold (resume off for it: disconnect it at once).
   */
  orphan(cid: string): Promise<boolean>;
  /**
   * Remembers, where another node can read it (Redis), that request `id` started under
   * `generation`; `n` counts the connection's requests (newest kept). Best effort, not awaited.
   * The memory store keeps nothing: a resume on the same node carries its RequestLog over.
   */
  logRequest(cid: string, id: number, generation: number, n: number): void;
  /** What logRequest kept for the cid, oldest first: [id, generation]. */
  loggedRequests(cid: string): Promise<Array<[number, number]>>;
  /**
   * The resume decision and, when it succeeds, the takeover: one atomic step, so of two
   * resumes with the same token exactly one wins (the other: `taken_over`), and no frame
   * appended meanwhile is missed (it lands in the replay or goes to the new owner).
   */
  claim(claims: ResumeClaims, lastSeq: number, node: string): Promise<ClaimResult>;
  /** Forgets the hold and its buffer (normal close, expiry, or a refused resume that gave it up). */
  release(cid: string): Promise<void>;
  /** Away holds whose window passed, each returned once; the caller runs the disconnect cleanup. */
  expired(limit?: number): Promise<string[]>;
  /** What the store knows about a hold (tests, diagnostics). */
  snapshot(cid: string): Promise<HoldSnapshot | null>;
  close(): Promise<void>;
}

/** The frames and bytes limits of the buffer, and its age: long enough to cover frames a half-open socket swallowed. */
export function replayLimits(config: { heartbeatMs: number; resume: { windowMs: number; maxBufferedFrames: number; maxBufferedBytes: number } }): ReplayLimits {
  return {
    windowMs: config.resume.windowMs,
    maxFrames: config.resume.maxBufferedFrames,
    maxBytes: config.resume.maxBufferedBytes,
    // A dead socket is noticed after up to two heartbeats; what it swallowed meanwhile must still be here.
    maxAgeMs: config.resume.windowMs + 2 * config.heartbeatMs,
  };
}
