/**
 * The replay store over Redis (cluster): one capped stream per cid (`rf:<cid>`), its hold in
 * `rh:<cid>`, both expiring once the cid is away. `append` buffers and publishes in one script
 * (redis-scripts.ts), so a frame is never published unbuffered nor buffered for a node that
 * just lost the cid to a resume: the claim reroutes the cid in the same atomic step.
 * Every Redis failure surfaces as RequestError SERVER_UNAVAILABLE, as in the Redis store.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RequestError } from '../request-error.js';
import type { OutboundFrame } from '../state/delivery.js';
import type { HoldSnapshot } from './decision.js';
import type { AckTemplate, Appended, AppendedWithAck, BufferedFrame, ClaimResult, ReplayLimits, ReplayStore } from './replay-store.js';
import { defineReplayScripts } from './redis-scripts.js';
import { isResumeReason } from '@switchboard/protocol';

export interface RedisReplayOptions {
  redis: Redis;
  prefix: string;
  /** This node: frames for its own cids are returned, not published. */
  node: string;
  limits: ReplayLimits;
  /** Test clock (ms); default: the Redis clock. */
  now?: () => number;
  /** Extra time an away hold's keys outlive its window, so the sweeper finds them (default 10 s). */
  graceMs?: number;
  onFailure?(err: unknown): void;
  /** Redis is known not to answer (cluster/health.ts): fail at once instead of waiting for a timeout. */
  stalled?(): boolean;
}

/** Request count bits of a request log score (generation × 2^30 + count). */
const REQUEST_SPAN = 2 ** 30;
const REQUEST_LOG_MAX = 1024;
const REQUEST_LOG_TRIM_EVERY = 64;

/** Confirmations sent together: at most this many cids (a script's run blocks Redis), at most this late. */
const CONFIRM_BATCH = 256;
const CONFIRM_DELAY_MS = 50;

const UNAVAILABLE = 'The cluster store (Redis) is unreachable; retry shortly.';

export interface RedisReplayStore extends ReplayStore {
  /** Receivers per node of the last `append` call's publishes (tests). */
  readonly lastPublished: ReadonlyMap<string, number>;
}

export function createRedisReplayStore(o: RedisReplayOptions): RedisReplayStore {
  const redis = defineReplayScripts(o.redis);
  const P = o.prefix;
  const { limits } = o;
  const clock = () => (o.now ? String(o.now()) : '');
  const ttl = String(limits.windowMs + (o.graceMs ?? 10_000));
  const newEpoch = () => randomBytes(6).toString('base64url');
  const trimArgs = () => [String(limits.maxFrames), String(limits.maxBytes), String(limits.maxAgeMs)];
  let lastPublished = new Map<string, number>();
  // Delivery probes' confirmations, cid → seq, sent as one script call per batch: each client's
  // probe comes every second or so, and a script call each would be Redis's busiest command.
  const confirmed = new Map<string, number>();
  let confirmTimer: NodeJS.Timeout | undefined;
  const flushConfirmed = () => {
    clearTimeout(confirmTimer);
    confirmTimer = undefined;
    if (confirmed.size === 0) return;
    const pairs: string[] = [];
    for (const [cid, seq] of confirmed) pairs.push(cid, String(seq));
    confirmed.clear();
    redis.sbrReceived(P, ...pairs).catch((err: unknown) => o.onFailure?.(err));
  };

  async function guard<T>(op: () => Promise<T>): Promise<T> {
    if (o.stalled?.()) throw new RequestError('SERVER_UNAVAILABLE', UNAVAILABLE);
    try {
      return await op();
    } catch (err) {
      o.onFailure?.(err);
      throw new RequestError('SERVER_UNAVAILABLE', UNAVAILABLE);
    }
  }

  /** The append script; with `ack`, the request's ack is buffered in the same step when it can be (see APPEND). */
  const appendWithAck = (cids: readonly string[], frame: OutboundFrame, group: boolean, ack: AckTemplate | null) =>
    guard(async (): Promise<AppendedWithAck> => {
      if (cids.length === 0) return { appended: [], ack: null };
      const ackArgs = ack === null ? ['', '', ''] : [ack.cid, ack.head, ack.tail];
      const [flat, received, acked] = await redis.sbrAppend(P, o.node, clock(), ...trimArgs(), frame.type, frame.data, group ? '1' : '0', ...ackArgs, ...cids);
      const published = new Map<string, number>();
      for (let i = 0; i + 1 < received.length; i += 2) published.set(String(received[i]), Number(received[i + 1]));
      lastPublished = published;
      const appended: Appended[] = [];
      for (let i = 0; i + 2 < flat.length; i += 3) {
        const node = String(flat[i + 2]);
        const entry: Appended = { cid: String(flat[i]), seq: Number(flat[i + 1]), node: node === '' ? null : node };
        if (published.has(node)) entry.published = published.get(node)! > 0;
        appended.push(entry);
      }
      const ackSeq = Number(acked[0]);
      return { appended, ack: ackSeq > 0 ? { seq: ackSeq, delivered: Number(acked[1]) } : null };
    });

  return {
    limits,
    get lastPublished() {
      return lastPublished;
    },
    epoch: () => guard(() => redis.sbrEpoch(P, newEpoch())),

    open: (cid, userId) => guard(async () => ({ epoch: await redis.sbrOpen(P, newEpoch(), cid, userId), generation: 0 })),

    append: async (cids, frame: OutboundFrame, group = false) => (await appendWithAck(cids, frame, group, null)).appended,

    appendWithAck,

    away: (cid, generation) =>
      guard(async () => {
        const marked = await redis.sbrAway(P, cid, clock(), String(limits.windowMs), ttl, '0', generation === undefined ? '' : String(generation));
        return marked === 0 ? 'none' : marked === 3 ? 'newer' : 'away';
      }),

    orphan: (cid) => guard(async () => (await redis.sbrAway(P, cid, clock(), String(limits.windowMs), ttl, '1', '')) !== 0),

    logRequest(cid, id, generation, n) {
      if (o.stalled?.()) return;
      const key = `${P}rq:${cid}`;
      // Single commands, not a pipeline object: auto-pipelining sends them with the tick's others.
      const failed = (err: unknown) => o.onFailure?.(err);
      redis.zadd(key, String(generation * REQUEST_SPAN + (n % REQUEST_SPAN)), String(id)).catch(failed);
      // Cut back to the newest REQUEST_LOG_MAX once every REQUEST_LOG_TRIM_EVERY requests, not on each:
      // a command fewer per request, and the log holds at most REQUEST_LOG_TRIM_EVERY - 1 more.
      if (n % REQUEST_LOG_TRIM_EVERY === 0) redis.zremrangebyrank(key, 0, -(REQUEST_LOG_MAX + 1)).catch(failed);
    },

    loggedRequests: (cid) =>
      guard(async () => {
        const flat = await redis.zrange(`${P}rq:${cid}`, 0, -1, 'WITHSCORES');
        const out: Array<[number, number]> = [];
        for (let i = 0; i + 1 < flat.length; i += 2) out.push([Number(flat[i]), Math.floor(Number(flat[i + 1]) / REQUEST_SPAN)]);
        return out;
      }),

    claim: (claims, lastSeq, node) =>
      guard(async (): Promise<ClaimResult> => {
        const seq = Number.isSafeInteger(lastSeq) && lastSeq >= 0 ? String(lastSeq) : '-1';
        const reply = await redis.sbrClaimBuffer(
          P,
          claims.cid,
          claims.userId,
          claims.epoch,
          String(claims.generation),
          seq,
          String(limits.windowMs),
          ...trimArgs(),
          node,
          clock(),
        );
        const status = String(reply[0]);
        if (status !== 'ok') {
          if (!isResumeReason(status)) throw new Error(`unexpected claim reply ${status}`);
          return { resumed: false, reason: status };
        }
        const flat = reply[4] as Array<number | Buffer>;
        const replay: BufferedFrame[] = [];
        for (let i = 0; i + 1 < flat.length; i += 2) replay.push({ seq: Number(flat[i]), data: flat[i + 1] as Buffer });
        const previous = String(reply[3]);
        return {
          resumed: true,
          generation: Number(reply[1]),
          replay,
          replayTo: Number(reply[2]),
          previousNode: previous === '' ? null : previous,
        };
      }),

    received(cid, seq) {
      if (o.stalled?.()) return;
      if ((confirmed.get(cid) ?? 0) < seq) confirmed.set(cid, seq);
      if (confirmed.size >= CONFIRM_BATCH) flushConfirmed();
      else confirmTimer ??= setTimeout(flushConfirmed, CONFIRM_DELAY_MS);
    },

    release: (cid) => guard(async () => void (await redis.sbrRelease(P, cid))),

    expired: (limit = 1000) => guard(() => redis.sbrExpired(P, clock(), String(limit))),

    snapshot: (cid) =>
      guard(async (): Promise<HoldSnapshot | null> => {
        const h = await redis.sbrSnapshot(P, cid, clock(), ...trimArgs());
        if (!h) return null;
        return {
          userId: h[0],
          generation: Number(h[1]),
          awaySince: h[2] === '' ? null : Number(h[2]),
          topSeq: Number(h[3]),
          firstSeq: Number(h[4]),
          overflowThrough: Number(h[5]),
        };
      }),

    async close() {
      // The cluster owns the Redis connection; what probes confirmed meanwhile leaves by the limits.
      clearTimeout(confirmTimer);
      confirmed.clear();
    },
  };
}
