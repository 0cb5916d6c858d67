/**
 * Calls to a user_id over Redis (store.ts, UserRing), so a ring placed on one node rings the
 * callee's connections on every node and the first accept wins cluster-wide:
 *
 *   ring:<call>   HASH  j (the ring as JSON), by (the connection that settled it), end; expires with the ring
 *   ur:<user_id>  SET   calls ringing the user (a settled ring leaves it); expires with its newest ring
 */
import type { Redis } from 'ioredis';
import type { RingEnd, Store, UserRing } from '../state/store.js';

type RingMethods = Pick<Store, 'putRing' | 'ringsFor' | 'claimRing'>;

/** The first claim (by the caller or a connection of the callee) sets `by` and `end` and takes the ring off its user's list; later ones read them. */
const CLAIM = `
local P, call = ARGV[1], ARGV[2]
local key = P .. 'ring:' .. call
local h = redis.call('HMGET', key, 'j', 'by', 'end')
if not h[1] then return false end
local ring = cjson.decode(h[1])
if ring.to ~= ARGV[5] and ring.caller ~= ARGV[3] then return false end
if h[2] then return {h[1], h[2], h[3]} end
redis.call('HSET', key, 'by', ARGV[3], 'end', ARGV[4])
redis.call('SREM', P .. 'ur:' .. ring.to, call)
return {h[1], ARGV[3], ARGV[4]}
`;

export function createRedisRings(redis: Redis, prefix: string, guard: <T>(op: () => Promise<T>) => Promise<T>): RingMethods {
  const ringKey = (call: string) => `${prefix}ring:${call}`;
  const userKey = (userId: string) => `${prefix}ur:${userId}`;

  return {
    putRing: (ring) =>
      guard(async () => {
        const ttl = String(Math.max(1, ring.expiresAt - Date.now()));
        await redis
          .multi()
          .del(ringKey(ring.call))
          .hset(ringKey(ring.call), 'j', JSON.stringify(ring))
          .pexpire(ringKey(ring.call), ttl)
          .sadd(userKey(ring.to), ring.call)
          .pexpire(userKey(ring.to), ttl)
          .exec();
      }),
    ringsFor: (userId) =>
      guard(async () => {
        const calls = await redis.smembers(userKey(userId));
        if (calls.length === 0) return [];
        const pipeline = redis.pipeline();
        for (const call of calls) pipeline.hmget(ringKey(call), 'j', 'by');
        const results = (await pipeline.exec()) ?? [];
        const at = Date.now();
        const rings: UserRing[] = [];
        const gone: string[] = [];
        results.forEach(([err, fields], i) => {
          if (err) throw err;
          const [json, by] = fields as (string | null)[];
          const ring = json ? (JSON.parse(json) as UserRing) : null;
          if (ring && !by && ring.expiresAt > at) rings.push(ring);
          else if (!ring) gone.push(calls[i]!);
        });
        if (gone.length > 0) await redis.srem(userKey(userId), ...gone);
        return rings;
      }),
    claimRing: (call, by, userId, end) =>
      guard(async () => {
        const out = (await redis.eval(CLAIM, 0, prefix, call, by, end, userId)) as [string, string, string] | null;
        if (!out) return null;
        return { outcome: out[1] === by ? 'won' : 'lost', ring: JSON.parse(out[0]) as UserRing, by: out[1], end: out[2] as RingEnd };
      }),
  };
}
