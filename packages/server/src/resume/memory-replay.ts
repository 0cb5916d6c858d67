/**
 * The replay store in this process's memory (single node). Each cid's buffer is a ring of
 * references to the frames themselves: a broadcast to a group is held once in memory
 * however many members buffer it (the byte limit still counts it per cid). The epoch is
 * random per process, so after a restart every old token is refused with `epoch_changed`.
 */
import { randomBytes } from 'node:crypto';
import { frameBytes, TextFrame, type OutboundFrame } from '../state/outbound-frame.js';
import { decideResume, type HoldSnapshot } from './decision.js';
import type { Appended, BufferedFrame, ClaimResult, ReplayLimits, ReplayStore } from './replay-store.js';

/** The frame itself, not its bytes: they are made only if it is replayed (see TextFrame). */
interface Entry {
  seq: number;
  frame: OutboundFrame;
  bytes: number;
  at: number;
}

interface Hold {
  userId: string;
  generation: number;
  awaySince: number | null;
  topSeq: number;
  overflowThrough: number;
  bytes: number;
  /** Ring: live entries are frames[head …]; compacted when the dead prefix grows. */
  frames: Entry[];
  head: number;
}

export interface MemoryReplayOptions {
  /** Clock (ms); tests move it. */
  now?: () => number;
}

export function createMemoryReplayStore(limits: ReplayLimits, options: MemoryReplayOptions = {}): ReplayStore {
  const now = options.now ?? Date.now;
  const epoch = randomBytes(6).toString('base64url');
  const holds = new Map<string, Hold>();
  /** Away cids → when their window ends (insertion order ≈ expiry order; scanned whole anyway). */
  const away = new Map<string, number>();

  const count = (hold: Hold) => hold.frames.length - hold.head;

  function evictHead(hold: Hold, bySize: boolean, flushed = false): void {
    const entry = hold.frames[hold.head]!;
    if (entry.frame instanceof TextFrame) entry.frame.letGo(flushed);
    hold.frames[hold.head] = undefined as unknown as Entry; // let the frame go
    hold.head += 1;
    hold.bytes -= entry.bytes;
    if (bySize) hold.overflowThrough = entry.seq;
    if (hold.head > 64 && hold.head * 2 > hold.frames.length) {
      hold.frames = hold.frames.slice(hold.head);
      hold.head = 0;
    }
  }

  /** Drops what is over the limits, oldest first; an eviction for size is an overflow. */
  function trim(hold: Hold, at: number): void {
    while (count(hold) > 0) {
      const oldest = hold.frames[hold.head]!;
      const bySize = count(hold) > limits.maxFrames || hold.bytes > limits.maxBytes;
      if (!bySize && at - oldest.at <= limits.maxAgeMs) return;
      evictHead(hold, bySize);
    }
  }

  function appendTo(cid: string, frame: OutboundFrame, at: number): number {
    const hold = holds.get(cid);
    if (!hold) return 0;
    const seq = ++hold.topSeq;
    const bytes = frameBytes(frame);
    if (frame instanceof TextFrame) frame.hold();
    hold.frames.push({ seq, frame, bytes, at });
    hold.bytes += bytes;
    trim(hold, at);
    return seq;
  }

  function snapshotOf(hold: Hold): HoldSnapshot {
    const first = count(hold) > 0 ? hold.frames[hold.head]!.seq : hold.topSeq + 1;
    return {
      userId: hold.userId,
      generation: hold.generation,
      awaySince: hold.awaySince,
      topSeq: hold.topSeq,
      firstSeq: first,
      overflowThrough: hold.overflowThrough,
    };
  }

  return {
    limits,
    epoch: async () => epoch,

    received(cid: string, seq: number, flushed = false): void {
      const hold = holds.get(cid);
      // Away, the socket that answered is gone; its successor reports its own lastSeq on resume.
      if (!hold || hold.awaySince !== null) return;
      while (count(hold) > 0 && hold.frames[hold.head]!.seq <= seq) evictHead(hold, false, flushed);
    },

    async open(cid, userId) {
      holds.set(cid, { userId, generation: 0, awaySince: null, topSeq: 0, overflowThrough: 0, bytes: 0, frames: [], head: 0 });
      away.delete(cid);
      return { epoch, generation: 0 };
    },

    async append(cids, frame: OutboundFrame) {
      const at = now();
      const out: Appended[] = [];
      const seen = new Set<string>();
      for (const cid of cids) {
        if (seen.has(cid)) continue;
        seen.add(cid);
        out.push({ cid, seq: appendTo(cid, frame, at), node: null });
      }
      return out;
    },

    appendNow(cid, frame) {
      return appendTo(cid, frame, now());
    },

    async away(cid, generation) {
      const hold = holds.get(cid);
      if (!hold) return 'none';
      if (generation !== undefined && hold.generation !== generation) return 'newer';
      hold.awaySince = now();
      away.set(cid, hold.awaySince + limits.windowMs);
      return 'away';
    },

    async orphan(cid) {
      const hold = holds.get(cid);
      if (!hold) return false;
      if (hold.awaySince === null) {
        hold.awaySince = now();
        away.set(cid, hold.awaySince + limits.windowMs);
      }
      return true;
    },

    logRequest() {
      // Same node only: the Connection carries its RequestLog over on a resume.
    },

    loggedRequests: async () => [],

    async claim(claims, lastSeq): Promise<ClaimResult> {
      const hold = holds.get(claims.cid) ?? null;
      const at = now();
      if (hold) trim(hold, at);
      const decision = decideResume({
        claims,
        epoch,
        hold: hold && snapshotOf(hold),
        lastSeq,
        now: at,
        windowMs: limits.windowMs,
      });
      if (!decision.resumed) return decision;
      const held = hold!; // decideResume refuses without a hold
      held.generation += 1;
      held.awaySince = null;
      away.delete(claims.cid);
      const replay: BufferedFrame[] = [];
      for (let i = held.head; i < held.frames.length; i++) {
        const entry = held.frames[i]!;
        // A new socket now confirms frames the old one may still be writing (it closes gracefully).
        if (entry.frame instanceof TextFrame) entry.frame.pin();
        if (entry.seq >= decision.from) replay.push({ seq: entry.seq, data: entry.frame.data });
      }
      return { resumed: true, generation: held.generation, replay, replayTo: decision.to, previousNode: null };
    },

    async release(cid) {
      holds.delete(cid);
      away.delete(cid);
    },

    async expired(limit = 1000) {
      const at = now();
      const out: string[] = [];
      for (const [cid, until] of away) {
        if (out.length >= limit) break;
        if (until < at) {
          away.delete(cid);
          out.push(cid);
        }
      }
      return out;
    },

    async snapshot(cid) {
      const hold = holds.get(cid);
      if (!hold) return null;
      trim(hold, now());
      return snapshotOf(hold);
    },

    async close() {
      holds.clear();
      away.clear();
    },
  };
}
