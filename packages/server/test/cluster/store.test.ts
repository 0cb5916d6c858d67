/**
 * The Redis Store against the memory Store: the same operations on both, then every listing
 * (walked page by page, both directions, with filters and Skapi's search conditions) must be
 * identical, cursors included. Plus calls and the per-connection indexes.
 */
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger, createMemoryStore, createRedisCluster, type RedisCluster, type Store } from '../../src/index.js';
import { normalizeGroupFilter } from '../../src/state/group-search.js';
import type { ConnectionRecord, Page } from '../../src/state/store.js';
import { describeRedis, startRedis, type RedisHandle } from './redis.js';

const USERS = ['alice', 'bob', 'Bob', 'carol', 'zoë', 'user 1', '名前', 'a'];
const GROUPS = ['room', 'room 2', 'lobby', 'Lobby', 'a', 'ab', 'abc', 'b', 'ünï', 'x:y', '日本'];

let redis: RedisHandle;
const clusters: RedisCluster[] = [];
let prefixes = 0;

async function redisStore(node = 'n1'): Promise<Store> {
  const cluster = createRedisCluster({
    url: redis.url,
    node,
    prefix: `store${++prefixes}:`,
    heartbeatMs: 1000,
    nodeTimeoutMs: 5000,
    connectTimeoutMs: 2000,
    commandTimeoutMs: 2000,
    log: createLogger('silent'),
    registry: new Registry(),
  });
  await cluster.start();
  clusters.push(cluster);
  return cluster.store;
}

async function walk<T>(list: (startKey?: string) => Promise<Page<T>>): Promise<{ rows: T[]; keys: string[] }> {
  const rows: T[] = [];
  const keys: string[] = [];
  let startKey: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await list(startKey);
    rows.push(...page.list);
    keys.push(page.startKey);
    if (page.endOfList) return { rows, keys };
    startKey = page.startKey;
  }
  throw new Error('paging did not end');
}

type Op = { kind: 'add'; user: number } | { kind: 'join'; conn: number; group: number | null } | { kind: 'remove'; conn: number };

const ops = fc.array(
  fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('add' as const), user: fc.nat(USERS.length - 1) }), weight: 3 },
    { arbitrary: fc.record({ kind: fc.constant('join' as const), conn: fc.nat(40), group: fc.option(fc.nat(GROUPS.length - 1), { freq: 8 }) }), weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant('remove' as const), conn: fc.nat(40) }), weight: 1 },
  ),
  { minLength: 10, maxLength: 80 },
);

async function apply(stores: Store[], script: Op[]): Promise<string[]> {
  const cids: string[] = [];
  let n = 0;
  for (const op of script) {
    if (op.kind === 'add') {
      const record: ConnectionRecord = {
        cid: `cid:c${String(++n).padStart(3, '0')}`,
        user: { user_id: USERS[op.user]!, name: n % 2 ? `N${n}` : null },
        node: 'n1',
        connectedAt: 1000 + n,
        group: null,
      };
      cids.push(record.cid);
      for (const s of stores) await s.addConnection(record);
    } else if (cids.length > 0) {
      const cid = cids[op.conn % cids.length]!;
      const results = [];
      for (const s of stores) {
        results.push(op.kind === 'join' ? await s.setGroup(cid, op.group === null ? null : GROUPS[op.group]!) : await s.removeConnection(cid));
      }
      expect(results[1]).toEqual(results[0]);
    }
  }
  return cids;
}

const groupQuery = fc.oneof(
  fc.record({
    searchFor: fc.constant('group' as const),
    value: fc.oneof(fc.constantFrom(...GROUPS, ' ', '', 'r', 'ro', 'L', 'zzz'), fc.string({ maxLength: 3 })),
    condition: fc.option(fc.constantFrom('>', '>=', '=', '<', '<=', '!=', 'gt', 'gte', 'eq', 'lt', 'lte', 'ne'), { nil: undefined }),
    range: fc.option(fc.constantFrom(...GROUPS, 'm', 'z'), { nil: undefined }),
  }),
  fc.record({
    searchFor: fc.constant('number_of_users' as const),
    value: fc.oneof(fc.integer({ min: -1, max: 6 }), fc.double({ min: -2, max: 8, noNaN: true })),
    condition: fc.option(fc.constantFrom('>', '>=', '=', '<', '<=', '!='), { nil: undefined }),
    range: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
  }),
);

describeRedis('Redis store = memory store', () => {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const c of clusters) await c.close(false);
    await redis?.stop();
  });

  it('same records, memberships, listings and cursors after random operations', async () => {
    await fc.assert(
      fc.asyncProperty(ops, fc.array(groupQuery, { minLength: 4, maxLength: 10 }), fc.nat(4), fc.boolean(), async (script, queries, limitSeed, ascending) => {
        const memory = createMemoryStore();
        const shared = await redisStore();
        const cids = await apply([memory, shared], script);
        const limit = limitSeed + 1;
        for (const cid of cids) expect(await shared.getConnection(cid)).toEqual(await memory.getConnection(cid));
        for (const user of USERS) {
          expect((await shared.userConnections(user)).sort()).toEqual((await memory.userConnections(user)).sort());
          expect(await shared.countUserConnections(user)).toBe(await memory.countUserConnections(user));
        }
        expect(await shared.counts()).toEqual(await memory.counts());
        for (const group of GROUPS) {
          expect(await shared.groupExists(group)).toBe(await memory.groupExists(group));
          expect((await shared.groupMembers(group)).sort()).toEqual((await memory.groupMembers(group)).sort());
          for (const user_id of [undefined, 'bob', 'zoë']) {
            const q = { group, user_id, limit, ascending };
            const [m, r] = await Promise.all([
              walk((startKey) => memory.listUsers({ ...q, startKey })),
              walk((startKey) => shared.listUsers({ ...q, startKey })),
            ]);
            expect(r).toEqual(m);
          }
        }
        for (const input of queries) {
          const filter = normalizeGroupFilter(input);
          const [m, r] = await Promise.all([
            walk((startKey) => memory.listGroups({ ...filter, limit, ascending, startKey })),
            walk((startKey) => shared.listGroups({ ...filter, limit, ascending, startKey })),
          ]);
          expect(r, JSON.stringify(filter)).toEqual(m);
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('calls: put, get in either direction, state change, callsOf, delete', async () => {
    const stores = [createMemoryStore(), await redisStore()];
    for (const store of stores) {
      await store.putCall({ call: 'k1', caller: 'cid:a', callee: 'cid:b', state: 'ringing', createdAt: 5 });
      await store.putCall({ call: 'k2', caller: 'cid:c', callee: 'cid:a', state: 'active', createdAt: 6 });
      expect(await store.getCall('k1', 'cid:b', 'cid:a')).toEqual({ call: 'k1', caller: 'cid:a', callee: 'cid:b', state: 'ringing', createdAt: 5 });
      await store.putCall({ call: 'k1', caller: 'cid:a', callee: 'cid:b', state: 'active', createdAt: 5 });
      expect((await store.getCall('k1', 'cid:a', 'cid:b'))?.state).toBe('active');
      expect((await store.callsOf('cid:a')).map((c) => c.call).sort()).toEqual(['k1', 'k2']);
      await store.deleteCall('k1', 'cid:b', 'cid:a');
      expect(await store.getCall('k1', 'cid:a', 'cid:b')).toBeNull();
      expect((await store.callsOf('cid:a')).map((c) => c.call)).toEqual(['k2']);
      expect(await store.callsOf('cid:b')).toEqual([]);
      expect(await store.getCall('nope', 'cid:a', 'cid:b')).toBeNull();
    }
  });

  it('call caps: ringCall/acceptCall outcomes and per-connection counts agree, and match a recount', async () => {
    const CIDS = ['cid:a', 'cid:b', 'cid:c', 'cid:d'];
    const callOp = fc
      .record({
        kind: fc.constantFrom('ring', 'ring', 'accept', 'accept', 'delete', 'put'),
        from: fc.nat(CIDS.length - 1),
        to: fc.nat(CIDS.length - 1),
        call: fc.constantFrom('k1', 'k2', 'k3'),
        ticks: fc.nat(3),
      })
      .filter((op) => op.from !== op.to);
    await fc.assert(
      fc.asyncProperty(fc.array(callOp, { minLength: 5, maxLength: 60 }), async (script) => {
        const stores = [createMemoryStore(), await redisStore()];
        let clock = 1000;
        for (const op of script) {
          clock += op.ticks * 40; // a ringing call goes stale after 100
          const [from, to] = [CIDS[op.from]!, CIDS[op.to]!];
          const outcomes = [];
          for (const store of stores) {
            if (op.kind === 'ring') {
              const record = { call: op.call, caller: from, callee: to, state: 'ringing' as const, createdAt: clock };
              outcomes.push(await store.ringCall(record, { maxRinging: 2, maxActive: 2, staleBefore: clock - 100 }));
            } else if (op.kind === 'accept') outcomes.push(await store.acceptCall(op.call, from, to, 2));
            else if (op.kind === 'put') await store.putCall({ call: op.call, caller: from, callee: to, state: 'active', createdAt: clock });
            else await store.deleteCall(op.call, from, to);
          }
          expect(outcomes[1], JSON.stringify(op)).toEqual(outcomes[0]);
        }
        for (const cid of CIDS) {
          const [counts, calls] = [await stores[0]!.callCounts(cid), await stores[0]!.callsOf(cid)];
          expect(await stores[1]!.callCounts(cid)).toEqual(counts);
          expect(counts).toEqual({
            ringing: calls.filter((c) => c.state === 'ringing' && c.caller === cid).length,
            active: calls.filter((c) => c.state === 'active').length,
          });
          const byKey = (list: { call: string; caller: string }[]) => list.map((c) => `${c.call} ${c.caller}`).sort();
          expect(byKey(await stores[1]!.callsOf(cid))).toEqual(byKey(calls));
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('a bad cursor is INVALID_PARAMETER, "end" is an empty last page', async () => {
    const store = await redisStore();
    await store.addConnection({ cid: 'cid:x', user: { user_id: 'u', name: null }, node: 'n1', connectedAt: 1, group: null });
    await store.setGroup('cid:x', 'g');
    await expect(store.listUsers({ group: 'g', limit: 5, ascending: true, startKey: '%%%' })).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    expect(await store.listGroups({ searchFor: 'group', value: ' ', condition: '>', limit: 5, ascending: true, startKey: 'end' })).toEqual({
      list: [],
      startKey: 'end',
      endOfList: true,
    });
  });
});
