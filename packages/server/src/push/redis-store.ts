/**
 * Subscriptions and push counts in the cluster's Redis, on a connection of their own (the
 * cluster's connections carry its hot path). Keys, under the cluster prefix:
 *
 *   push:s:<user_id>        HASH  endpoint → subscription (JSON: endpoint, keys, vapid)
 *   push:e                  HASH  endpoint → user_id (an endpoint belongs to one user)
 *   push:n:<user_id>:<min>  STRING pushes to the user in that minute (expires after it)
 *   push:vapid              STRING the generated VAPID pair every node uses (JSON), set once
 *
 * Standalone Redis only, as the cluster's own scripts: the scripts build key names from the prefix.
 */
import type { Redis } from 'ioredis';
import { ioredisLib } from '../optional-libs.js';
import type { PushStore, StoredSubscription, VapidKeys } from './types.js';

/** KEYS: user hash, endpoint index. ARGV: endpoint, json, max, user_id, prefix. */
const ADD = `
local owner = redis.call('HGET', KEYS[2], ARGV[1])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
if owner and owner ~= ARGV[4] then redis.call('HDEL', ARGV[5] .. 'push:s:' .. owner, ARGV[1]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
return redis.call('HLEN', KEYS[1])
`;
/** KEYS: user hash, endpoint index. ARGV: endpoint, user_id. */
const REMOVE = `
local n = redis.call('HDEL', KEYS[1], ARGV[1])
if n == 1 and redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[2], ARGV[1]) end
return n
`;
/** KEYS: counter. ARGV: limit. Counts only while under the limit. */
const TAKE = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
if n == 0 then redis.call('PEXPIRE', KEYS[1], 61000) end
return 1
`;

type Scripted = Redis & {
  pushAdd(user: string, index: string, endpoint: string, json: string, max: number, userId: string, prefix: string): Promise<number>;
  pushRemove(user: string, index: string, endpoint: string, userId: string): Promise<number>;
  pushTake(key: string, limit: number): Promise<number>;
};

export interface RedisPushStoreOptions {
  url: string;
  prefix: string;
  commandTimeoutMs: number;
  now?: () => number;
}

export function createRedisPushStore(o: RedisPushStoreOptions): PushStore {
  const redis = new (ioredisLib().Redis)(o.url, {
    connectionName: 'switchboard:push',
    // Connects at the first command: a node whose cluster never starts leaves no socket behind.
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    commandTimeout: o.commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
  }) as Scripted;
  redis.on('error', () => undefined); // failures surface on the commands (and the cluster logs Redis health)
  redis.defineCommand('pushAdd', { numberOfKeys: 2, lua: ADD });
  redis.defineCommand('pushRemove', { numberOfKeys: 2, lua: REMOVE });
  redis.defineCommand('pushTake', { numberOfKeys: 1, lua: TAKE });
  const P = o.prefix;
  const userKey = (userId: string) => `${P}push:s:${userId}`;
  const index = `${P}push:e`;
  const now = o.now ?? Date.now;

  return {
    async add(userId, subscription, maxPerUser) {
      const n = await redis.pushAdd(userKey(userId), index, subscription.endpoint, JSON.stringify(subscription), maxPerUser, userId, P);
      return n < 0 ? 'full' : n;
    },
    async remove(userId, endpoint) {
      return (await redis.pushRemove(userKey(userId), index, endpoint, userId)) === 1;
    },
    async list(userId) {
      const values = await redis.hvals(userKey(userId));
      return values.map((json) => JSON.parse(json) as StoredSubscription);
    },
    async take(userId, perMinute) {
      if (perMinute === 0) return true;
      return (await redis.pushTake(`${P}push:n:${userId}:${Math.floor(now() / 60_000)}`, perMinute)) === 1;
    },
    sharedKeys(generate) {
      return (async (): Promise<VapidKeys> => {
        const key = `${P}push:vapid`;
        await redis.set(key, JSON.stringify(generate()), 'NX');
        return JSON.parse((await redis.get(key))!) as VapidKeys;
      })();
    },
    async close() {
      redis.disconnect();
    },
  };
}
