/**
 * The route cache (src/cluster/routes.ts): a post or a call signal whose target is known goes
 * out without a Redis read (counted with INFO commandstats on the private Redis), joins and moves
 * made on other nodes reach it through the routes channel, and a dead node's entries are dropped.
 * The RouteCache rules (events during a fetch, dead nodes, a lost subscription) are tested first
 * on their own, without Redis.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createRedisCluster } from '../../src/cluster/index.js';
import { RouteCache } from '../../src/cluster/routes.js';
import { createLogger } from '../../src/logger.js';
import type { ConnectionRecord } from '../../src/state/store.js';
import { join, setClusterMode, startServer, useCleanup, type Frame, type TestClient } from '../helpers.js';
import { connectResume, lastSeqOf } from '../resume-helpers.js';
import { describeRedis, startRedis, type RedisHandle } from './redis.js';

useCleanup();

const record = (cid: string, node: string, group: string | null): ConnectionRecord => ({
  cid,
  user: { user_id: cid, name: null },
  node,
  connectedAt: 0,
  group,
});
const deferred = <T>() => {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};

describe('RouteCache', () => {
  it('keeps a fetched record and follows its moves; forgets it when it is gone', async () => {
    const cache = new RouteCache();
    expect(await cache.record('c1', async () => record('c1', 'n1', 'room'))).toMatchObject({ node: 'n1', group: 'room' });
    expect(await cache.record('c1', () => Promise.reject(new Error('no second read')))).toMatchObject({ node: 'n1' });
    cache.apply({ c: 'c1', n: 'n2', g: 'room', p: 'room' });
    expect(cache.nodeOf('c1')).toBe('n2');
    cache.apply({ c: 'c1', n: '', g: '', p: 'room' });
    expect(cache.nodeOf('c1')).toBeUndefined();
  });

  it('does not keep a record fetched while an event about it arrived', async () => {
    const cache = new RouteCache();
    const load = deferred<ConnectionRecord | null>();
    const pending = cache.record('c1', () => load.promise);
    cache.apply({ c: 'c1', n: 'n2', g: '', p: '' });
    load.resolve(record('c1', 'n1', null));
    await pending;
    expect(cache.nodeOf('c1')).toBeUndefined();
  });

  it('replays the events of a group that arrive while it loads; drops groups of a dead node and everything on clear()', async () => {
    const cache = new RouteCache();
    const load = deferred<Array<[string, string]>>();
    const pending = cache.group('room', () => load.promise);
    cache.apply({ c: 'c3', n: 'n3', g: 'room', p: '' }); // joined after the read
    cache.apply({ c: 'c1', n: '', g: '', p: 'room' }); // left after the read
    load.resolve([
      ['c1', 'n1'],
      ['c2', 'n2'],
    ]);
    const routes = await pending;
    expect([...routes.members]).toEqual([
      ['c2', 'n2'],
      ['c3', 'n3'],
    ]);
    expect(cache.group('room', () => Promise.reject(new Error('cached')))).toBe(routes);
    expect(Object.fromEntries(routes.perNode)).toEqual({ n2: 1, n3: 1 });
    cache.dropNode('n3');
    const reload = await cache.group('room', async () => [['c2', 'n2']]);
    expect([...reload.members.keys()]).toEqual(['c2']);
    cache.clear();
    expect(await cache.group('room', async () => [])).not.toBe(reload);
  });
});

function commandStats(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}
/** Commands that read where a connection or a group's members are. */
const LOOKUPS = ['hgetall', 'hmget', 'hget', 'zrange', 'smembers', 'hlen'];

describeRedis('route cache across nodes', () => {
  let redis: RedisHandle;
  let admin: Redis;
  const TIMING = { heartbeatMs: 100, nodeTimeoutMs: 1000, commandTimeoutMs: 500, connectTimeoutMs: 2000 };
  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    setClusterMode({ redisUrl: redis.url, nodes: 3, cluster: TIMING });
  });
  afterAll(async () => {
    setClusterMode(null);
    admin?.disconnect();
    await redis?.stop();
  });
  const joinedNotice = (user: string) => (f: Frame) => f.type === 'notice' && f.code === 'USER_JOINED' && f.sender === user;

  it('a join on node 3 is seen by a post on node 1, and posts and signals to known targets read nothing from Redis', async () => {
    const t = await startServer({ resume: { windowMs: 0 } });
    const a = await t.nodes[0]!.connect('alice');
    const b = await t.nodes[1]!.connect('bob');
    await join(a, 'room');
    await join(b, 'room');
    expect((await a.request({ type: 'post', to: 'room', message: 1 })).result).toEqual({ delivered: 2 });
    const c = await t.nodes[2]!.connect('carol');
    const cCid = (await c.welcome).cid as string;
    await join(c, 'room');
    await a.waitFor(joinedNotice('carol'));
    expect((await a.request({ type: 'post', to: cCid, message: 'first' })).result).toEqual({ delivered: 1 }); // learns carol's node

    await admin.config('RESETSTAT');
    expect((await a.request({ type: 'post', to: 'room', message: 2 })).result).toEqual({ delivered: 3 });
    expect((await a.request({ type: 'post', to: cCid, message: 'again' })).result).toEqual({ delivered: 1 });
    expect((await a.request({ type: 'rtc', to: cCid, call: 'call-1', signal: { kind: 'candidate', candidate: null } })).type).toBe('ack');
    await c.waitFor((f) => f.type === 'message' && f.message === 2);
    await c.waitFor((f) => f.type === 'private' && f.message === 'again');
    await c.waitFor('rtc');
    const stats = commandStats(await admin.info('commandstats'));
    for (const cmd of LOOKUPS) expect(stats[cmd] ?? 0, cmd).toBe(0);
    expect(stats['publish']).toBe(4); // the group post to nodes 2 and 3, the private message, the signal
  });

  it("a dead node's connections leave the cache: posts stop going to it", async () => {
    const t = await startServer({ resume: { windowMs: 0 } });
    const a = await t.nodes[0]!.connect('alice');
    await join(a, 'room');
    const ghost = createRedisCluster({
      url: redis.url,
      node: 'ghost',
      prefix: t.server.config.cluster.prefix,
      ...TIMING,
      log: createLogger('silent'),
      registry: new Registry(),
    });
    await ghost.start();
    const g1 = record('cid:ghost-1', 'ghost', null);
    await ghost.store.addConnection(g1);
    await ghost.store.setGroup(g1.cid, 'room');
    expect((await a.request({ type: 'post', to: 'room', message: 1 })).result).toEqual({ delivered: 2 });
    await ghost.close(false); // a crash: stops heartbeating, leaves its entries
    const gone = await a.waitFor((f) => f.type === 'notice' && f.code === 'USER_DISCONNECTED');
    expect(gone.sender_cid).toBe(g1.cid);
    await admin.config('RESETSTAT');
    expect((await a.request({ type: 'post', to: 'room', message: 2 })).result).toEqual({ delivered: 1 });
    expect(commandStats(await admin.info('commandstats'))['publish'] ?? 0).toBe(0);
  });

  it('a message to a user who moved to another node (resumed there) reaches the new node', async () => {
    const t = await startServer();
    const [n1, n2, n3] = t.nodes as [(typeof t.nodes)[number], (typeof t.nodes)[number], (typeof t.nodes)[number]];
    const a = await n1.connect('alice');
    const b: TestClient = await n2.connect('bob');
    await join(a, 'room');
    await join(b, 'room');
    const welcome = await b.welcome;
    const bCid = welcome.cid as string;
    // Node 1 learns bob's node (private) and the room's members (group post).
    expect((await a.request({ type: 'post', to: bCid, message: 'p1' })).result).toEqual({ delivered: 1 });
    expect((await a.request({ type: 'post', to: 'room', message: 'g1' })).result).toEqual({ delivered: 2 });
    await b.waitFor((f) => f.type === 'message' && f.message === 'g1');
    const lastSeq = lastSeqOf(b);
    b.terminate();
    await b.closed;
    const moved = await connectResume(t, n3, 'bob', welcome.resume, lastSeq);
    expect(await moved.welcome).toMatchObject({ cid: bCid, resumed: true });
    expect((await a.request({ type: 'post', to: bCid, message: 'p2' })).result).toEqual({ delivered: 1 });
    expect((await a.request({ type: 'post', to: 'room', message: 'g2' })).result).toEqual({ delivered: 2 });
    expect((await a.request({ type: 'rtc', to: bCid, call: 'call-1', signal: { kind: 'candidate', candidate: null } })).type).toBe('ack');
    await moved.waitFor((f) => f.type === 'private' && f.message === 'p2');
    await moved.waitFor((f) => f.type === 'message' && f.message === 'g2');
    await moved.waitFor('rtc');
  });
});
