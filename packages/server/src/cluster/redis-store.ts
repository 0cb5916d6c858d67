/**
 * The Store over Redis (see keys.ts for the layout). This node's own connections are mirrored
 * in a LocalIndex first, then written to Redis; when a write fails the mirror stays the truth
 * and Redis is brought back in line (dirty set, resync). Every Redis failure surfaces as
 * RequestError SERVER_UNAVAILABLE (retryable), never as a hang: commands fail fast while
 * disconnected (no offline queue), time out after `cluster.commandTimeoutMs`, and are not sent
 * at all while Redis is known to be stalled (health.ts).
 */
import { RequestError } from '../request-error.js';
import type { AcceptOutcome, CallRecord, CallState, ConnectionRecord, RingOutcome, Store } from '../state/store.js';
import { callKey, parseMember, type ClusterKeys } from './keys.js';
import { listGroups, listUsers } from './listings.js';
import type { LocalIndex } from './local-index.js';
import { createRedisRings } from './redis-rings.js';
import type { ScriptedRedis } from './scripts.js';

export interface RedisStoreDeps {
  redis: ScriptedRedis;
  keys: ClusterKeys;
  node: string;
  local: LocalIndex;
  /** Remembers where a cid lives (it never moves), so direct frames skip a lookup. */
  rememberNode(cid: string, node: string): void;
  forgetNode(cid: string): void;
  /** Another node's connection: from the route cache (routes.ts), or `load` from Redis on a miss. */
  lookup?(cid: string, load: () => Promise<ConnectionRecord | null>): Promise<ConnectionRecord | null>;
  /** Called with every Redis failure (for logs and health). */
  onFailure(err: unknown): void;
  /** Redis is known not to answer: fail at once instead of waiting for a timeout. */
  stalled(): boolean;
}

export interface RedisStore extends Store {
  /** Local cids whose Redis entry may disagree with the mirror (a write failed). */
  readonly dirty: Set<string>;
  /** Local connections that closed while Redis could not be told (announced after recovery). */
  readonly orphans: Map<string, ConnectionRecord>;
  /** Writes a local connection as the mirror has it (upsert). */
  putLocal(record: ConnectionRecord): Promise<void>;
}

export const UNAVAILABLE_MESSAGE = 'The cluster store (Redis) is unreachable; retry shortly.';

/** Thrown instead of sending a command while Redis is stalled (never leaves the store as is). */
export class StalledError extends Error {
  constructor() {
    super('Redis is not answering');
  }
}

export function recordFromHash(cid: string, hash: Record<string, string> | string[]): ConnectionRecord | null {
  let h: Record<string, string>;
  if (Array.isArray(hash)) {
    h = {};
    for (let i = 0; i + 1 < hash.length; i += 2) h[hash[i]!] = hash[i + 1]!;
  } else h = hash;
  if (h['u'] === undefined || h['nd'] === undefined) return null;
  return {
    cid,
    user: { user_id: h['u'], name: h['nm'] ?? null },
    node: h['nd'],
    connectedAt: Number(h['t'] ?? 0),
    group: h['g'] ?? null,
  };
}

function callFromHash(h: Record<string, string>): CallRecord | null {
  if (!h['call'] || !h['caller'] || !h['callee']) return null;
  return { call: h['call'], caller: h['caller'], callee: h['callee'], state: h['state'] as CallState, createdAt: Number(h['createdAt']) };
}

export function createRedisStore(deps: RedisStoreDeps): RedisStore {
  const { redis, keys, node, local } = deps;
  const P = keys.prefix;
  const dirty = new Set<string>();
  const orphans = new Map<string, ConnectionRecord>();

  async function guard<T>(op: () => Promise<T>): Promise<T> {
    if (deps.stalled()) throw new RequestError('SERVER_UNAVAILABLE', UNAVAILABLE_MESSAGE);
    try {
      return await op();
    } catch (err) {
      if (err instanceof RequestError) throw err;
      deps.onFailure(err);
      throw new RequestError('SERVER_UNAVAILABLE', UNAVAILABLE_MESSAGE);
    }
  }

  const put = (r: ConnectionRecord) =>
    redis.sbPut(P, r.cid, r.user.user_id, r.user.name ?? '', r.user.name === null ? '0' : '1', r.node, String(r.connectedAt), r.group ?? '');

  return {
    dirty,
    orphans,
    putLocal: (record) => guard(async () => void (await put(record))),

    async addConnection(record) {
      if (record.node === node) local.add(record);
      await guard(() => put(record));
      deps.rememberNode(record.cid, record.node);
    },

    async removeConnection(cid) {
      const mirrored = local.remove(cid);
      dirty.delete(cid);
      deps.forgetNode(cid);
      try {
        if (deps.stalled()) throw new StalledError();
        const hash = await redis.sbDel(P, cid);
        return hash ? recordFromHash(cid, hash) : null;
      } catch (err) {
        if (!(err instanceof StalledError)) deps.onFailure(err);
        // One of this node's connections: announced once Redis answers again (membership.ts
        // settles orphans), so closing it has nothing left to do now.
        if (mirrored) {
          orphans.set(cid, mirrored);
          return null;
        }
        throw new RequestError('SERVER_UNAVAILABLE', UNAVAILABLE_MESSAGE);
      }
    },

    async getConnection(cid) {
      const mirrored = local.get(cid);
      if (mirrored) return { ...mirrored, user: { ...mirrored.user } };
      const load = async () => recordFromHash(cid, await guard(() => redis.hgetall(keys.conn(cid))));
      if (deps.lookup) return deps.lookup(cid, load);
      const record = await load();
      if (record) deps.rememberNode(cid, record.node);
      return record;
    },

    userConnections: (userId) => guard(() => redis.smembers(keys.user(userId))),
    countUserConnections: (userId) => guard(() => redis.scard(keys.user(userId))),

    async setGroup(cid, group) {
      const mirrored = local.setGroup(cid, group);
      try {
        if (deps.stalled()) throw new StalledError();
        const [found, previous] = await redis.sbSetGroup(P, cid, group ?? '');
        if (found === 1) return previous === '' ? null : previous;
        if (mirrored === undefined) return null;
        // Local, but Redis lost it (e.g. restarted empty and the resync has not run yet): rewrite it.
        await put(local.get(cid)!);
        return mirrored;
      } catch (err) {
        if (mirrored !== undefined) {
          local.setGroup(cid, mirrored);
          dirty.add(cid);
        }
        if (!(err instanceof StalledError)) deps.onFailure(err);
        throw new RequestError('SERVER_UNAVAILABLE', UNAVAILABLE_MESSAGE);
      }
    },

    async groupMembers(group) {
      const members = await guard(() => redis.zrange(keys.group(group), 0, -1));
      return members.map((m) => parseMember(m).cid);
    },
    groupExists: (group) => guard(async () => (await redis.exists(keys.group(group))) === 1),
    counts: () =>
      guard(async () => {
        const [connections, groups] = await Promise.all([redis.hlen(keys.connNode), redis.hlen(keys.groupCounts)]);
        return { connections, groups };
      }),
    listUsers: (query) => guard(() => listUsers(redis, keys, query)),
    listGroups: (query) => guard(() => listGroups(redis, keys, query)),

    putCall: (record) =>
      guard(async () => {
        const { call, caller, callee, state, createdAt } = record;
        await redis.sbCallPut(P, callKey(call, caller, callee), call, caller, callee, state, String(createdAt));
      }),
    ringCall: (record, limits) =>
      guard(async () => {
        const { call, caller, callee, createdAt } = record;
        const outcome = await redis.sbCallRing(
          P,
          callKey(call, caller, callee),
          call,
          caller,
          callee,
          String(createdAt),
          String(limits.staleBefore),
          String(limits.maxRinging),
          String(limits.maxActive),
        );
        return outcome as RingOutcome;
      }),
    acceptCall: (call, callee, caller, maxActive) =>
      guard(async () => (await redis.sbCallAccept(P, callKey(call, callee, caller), callee, String(maxActive))) as AcceptOutcome),
    callCounts: (cid) =>
      guard(async () => {
        const [ringing, active] = await Promise.all([redis.zcard(keys.ringingOf(cid)), redis.scard(keys.activeOf(cid))]);
        return { ringing, active };
      }),
    getCall: (call, a, b) => guard(async () => callFromHash(await redis.hgetall(keys.call(callKey(call, a, b))))),
    deleteCall: (call, a, b) => guard(async () => void (await redis.sbCallDel(P, callKey(call, a, b)))),
    callsOf: (cid) =>
      guard(async () => {
        const callKeys = await redis.smembers(keys.callsOf(cid));
        if (callKeys.length === 0) return [];
        const pipeline = redis.pipeline();
        for (const key of callKeys) pipeline.hgetall(keys.call(key));
        const results = (await pipeline.exec()) ?? [];
        const calls: CallRecord[] = [];
        const stale: string[] = [];
        results.forEach(([err, hash], i) => {
          if (err) throw err;
          const record = callFromHash(hash as Record<string, string>);
          if (record) calls.push(record);
          else stale.push(callKeys[i]!);
        });
        if (stale.length > 0) await redis.srem(keys.callsOf(cid), ...stale);
        return calls;
      }),

    async close() {
      // The cluster owns the Redis connections (see cluster.ts).
    },
    ...createRedisRings(redis, P, guard),
  };
}
