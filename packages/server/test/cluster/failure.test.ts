/**
 * Losing a node, and losing Redis. A "dead node" here is a cluster member that stops
 * heartbeating without leaving (createRedisCluster(...).close(false)); the kill -9 of real
 * processes is in e2e/cluster.test.ts. Short timings: heartbeat 100 ms, dead after 1 s.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger, createRedisCluster } from '../../src/index.js';
import { expectRejected, getJson, join, setClusterMode, startServer, useCleanup, type TestClient } from '../helpers.js';
import { describeRedis, startRedis, type RedisHandle } from './redis.js';

useCleanup();

const TIMING = { heartbeatMs: 100, nodeTimeoutMs: 1000, commandTimeoutMs: 500, connectTimeoutMs: 2000 };
const gone = (cid: string) => (f: { type: string; code?: string; sender_cid?: string }) =>
  f.type === 'notice' && f.code === 'USER_DISCONNECTED' && f.sender_cid === cid;

describeRedis('cluster failures', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await startRedis();
    setClusterMode({ redisUrl: redis.url, nodes: 3, cluster: TIMING });
  });
  afterAll(async () => {
    setClusterMode(null);
    await redis?.stop();
  });

  it('a node that stops heartbeating: one survivor disconnects its connections (notices once, calls hung up, listings clean)', async () => {
    const t = await startServer();
    const a = await t.nodes[0]!.connect('alice');
    const b = await t.nodes[1]!.connect('bob');
    await join(a, 'room');
    await join(b, 'room');
    const aCid = (await a.welcome).cid as string;
    const bCid = (await b.welcome).cid as string;

    const ghost = createRedisCluster({
      url: redis.url,
      node: 'ghost',
      prefix: t.server.config.cluster.prefix,
      ...TIMING,
      log: createLogger('silent'),
      registry: new Registry(),
    });
    await ghost.start();
    const g1 = { cid: 'cid:ghost-1', user: { user_id: 'gina', name: 'Gina' }, node: 'ghost', connectedAt: Date.now(), group: null };
    const g2 = { cid: 'cid:ghost-2', user: { user_id: 'gus', name: null }, node: 'ghost', connectedAt: Date.now(), group: null };
    for (const g of [g1, g2]) {
      await ghost.store.addConnection(g);
      await ghost.store.setGroup(g.cid, 'room');
    }
    // alice calls gina (accepted), gus rings bob.
    expect((await a.request({ type: 'rtc', to: g1.cid, call: 'call-a', signal: { kind: 'invite' } })).type).toBe('ack');
    await ghost.store.putCall({ call: 'call-a', caller: aCid, callee: g1.cid, state: 'active', createdAt: Date.now() });
    await ghost.store.putCall({ call: 'call-b', caller: g2.cid, callee: bCid, state: 'ringing', createdAt: Date.now() });
    expect((await a.call({ type: 'list_users', group: 'room' })).list).toHaveLength(4);

    const died = Date.now();
    await ghost.close(false); // stops heartbeating, leaves everything in Redis: a crash
    const notices = await Promise.all([a.waitFor(gone(g1.cid), 5000), b.waitFor(gone(g2.cid), 5000)]);
    const detectedMs = Date.now() - died;
    expect(notices[0]).toMatchObject({ sender: 'gina', sender_rid: 'room', message: '"gina" has been disconnected.' });
    expect(detectedMs).toBeLessThan(TIMING.nodeTimeoutMs + 3 * TIMING.heartbeatMs + 1000);
    expect(await a.waitFor((f) => f.type === 'rtc' && f.call === 'call-a')).toMatchObject({
      sender: 'gina',
      sender_cid: g1.cid,
      signal: { kind: 'hangup', reason: 'peer_gone' },
    });
    expect(await b.waitFor((f) => f.type === 'rtc' && f.call === 'call-b')).toMatchObject({ sender: 'gus', signal: { kind: 'hangup', reason: 'cancelled' } });
    await a.waitFor(gone(g2.cid));
    await b.waitFor(gone(g1.cid));
    await a.sync();
    await b.sync();
    // Three survivors, one clean-up: each notice exactly once.
    for (const c of [a, b]) for (const g of [g1, g2]) expect(c.all(gone(g.cid))).toHaveLength(1);
    expect((await a.call({ type: 'list_users', group: 'room' })).list.map((u: { cid: string }) => u.cid).sort()).toEqual([aCid, bCid].sort());
    expect(await b.request({ type: 'post', to: g1.cid, message: 'x' })).toMatchObject({ type: 'error', code: 'RECIPIENT_NOT_FOUND' });
    expect(await redis.command('ZSCORE', `${t.server.config.cluster.prefix}nodes`, 'ghost')).toBeNull();
    console.info(`[cluster] dead node detected and cleaned up after ${detectedMs} ms (timeout ${TIMING.nodeTimeoutMs} ms)`);
  });

  it('a graceful shutdown hands its connections over; one not resumed within the window is announced, and the node leaves', async () => {
    // Its clients may resume on another node (resume-cross-node.test.ts); this one does not.
    const t = await startServer({ resume: { windowMs: 300 } });
    const a = await t.nodes[0]!.connect('alice');
    const c = await t.nodes[2]!.connect('carol');
    await join(a, 'room');
    await join(c, 'room');
    const cCid = (await c.welcome).cid as string;
    await t.nodes[2]!.server.close();
    expect((await c.closed).code).toBe(4000);
    await a.waitFor(gone(cCid), 5_000);
    const nodes = () => redis.command('ZRANGE', `${t.server.config.cluster.prefix}nodes`, 0, -1);
    await expect.poll(nodes, { timeout: 10_000 }).toEqual([t.nodes[0]!.server.node, t.nodes[1]!.server.node].sort());
  });

  it('a node declared dead while it was cut off closes its connections with NODE_LOST (4003)', async () => {
    const t = await startServer();
    const a = await t.nodes[0]!.connect('alice');
    const b = await t.nodes[1]!.connect('bob');
    await redis.command('SET', `${t.server.config.cluster.prefix}reaped:${t.nodes[1]!.server.node}`, '1');
    expect((await b.closed).code).toBe(4003);
    await a.sync();
    expect(a.ws.readyState).toBe(a.ws.OPEN);
    // The node itself goes on serving.
    const b2 = await t.nodes[1]!.connect('bob');
    expect((await b2.welcome).node).toBe(t.nodes[1]!.server.node);
  });

  it('Redis loses its data (FLUSHALL): each node re-registers its connections and memberships', async () => {
    const t = await startServer();
    const clients: TestClient[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await t.nodes[i % 3]!.connect(`u${i}`);
      await join(c, i % 2 ? 'odd' : 'even');
      clients.push(c);
    }
    await redis.command('FLUSHALL');
    const reader = clients[0]!;
    const deadline = Date.now() + 5000;
    let list: unknown[] = [];
    while (Date.now() < deadline) {
      list = (await reader.call({ type: 'list_users', group: 'even' })).list;
      if (list.length === 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(list).toHaveLength(3);
    expect((await reader.request({ type: 'post', to: 'even', message: 'back' })).result).toEqual({ delivered: 3 });
    for (const c of [clients[2]!, clients[4]!]) await c.waitFor((f) => f.type === 'message' && f.message === 'back');
  });

  it('Redis stalls (SIGSTOP) longer than the node timeout: requests fail in commandTimeoutMs, then nobody is reaped', async () => {
    const t = await startServer();
    const clients: TestClient[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await t.nodes[i]!.connect(`u${i}`);
      await join(c, 'room');
      clients.push(c);
    }
    process.kill(redis.process.pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const reply = await clients[0]!.request({ type: 'post', to: 'room', message: 'stalled' }, 5000);
      expect(reply).toMatchObject({ type: 'error', code: 'SERVER_UNAVAILABLE' });
      expect(Date.now() - started).toBeLessThan(TIMING.commandTimeoutMs + 1000);
      await new Promise((r) => setTimeout(r, 2 * TIMING.nodeTimeoutMs));
    } finally {
      process.kill(redis.process.pid, 'SIGCONT');
    }
    // Every node's heartbeat went stale at once; give them time to judge each other.
    await new Promise((r) => setTimeout(r, TIMING.nodeTimeoutMs + 5 * TIMING.heartbeatMs));
    for (const c of clients) expect(c.ws.readyState).toBe(c.ws.OPEN);
    expect((await clients[1]!.request({ type: 'post', to: 'room', message: 'resumed' })).result).toEqual({ delivered: 3 });
    expect((await clients[0]!.call({ type: 'list_users', group: 'room' })).list).toHaveLength(3);
  }, 30_000);

  it('Redis stopped under load: SERVER_UNAVAILABLE (no hangs, no crash), then recovery with state rebuilt', async () => {
    const t = await startServer();
    const clients: TestClient[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await t.nodes[i % 3]!.connect(`u${i}`);
      await join(c, 'room');
      clients.push(c);
    }
    const cids = await Promise.all(clients.map(async (c) => (await c.welcome).cid as string));
    const outcomes: string[] = [];
    let loading = true;
    const load = clients.slice(0, 5).map(async (c, i) => {
      while (loading) {
        const started = Date.now();
        const reply = await c.request({ type: 'post', to: 'room', message: { from: i } }, 3000).catch(() => ({ type: 'timeout' }) as const);
        outcomes.push(reply.type === 'ack' ? 'ack' : reply.type === 'error' ? String(reply['code']) : 'timeout');
        if (Date.now() - started > 1500) outcomes.push('slow');
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    const waitFor = async (check: () => boolean | Promise<boolean>, label: string, ms = 10_000) => {
      const deadline = Date.now() + ms;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out: ${label}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await waitFor(() => outcomes.filter((o) => o === 'ack').length >= 20, 'traffic before the outage');

    const port = redis.port;
    await redis.stop();
    const mark = outcomes.length;
    await waitFor(() => outcomes.slice(mark).filter((o) => o === 'SERVER_UNAVAILABLE').length >= 10, 'errors during the outage');
    expect(await getJson(`${t.nodes[1]!.address.url}/healthz`)).toMatchObject({ status: 503, body: { status: 'unavailable', redis: 'down' } });
    expect(await expectRejected(t.nodes[2]!.address.realtimeUrl, { token: await t.token('late') })).toMatchObject({
      status: 503,
      body: { code: 'SERVER_UNAVAILABLE' },
    });
    await clients[5]!.close(); // closes while Redis is away: announced after recovery

    redis = await startRedis({ port });
    const back = outcomes.length;
    await waitFor(() => outcomes.slice(back).filter((o) => o === 'ack').length >= 20, 'traffic after the outage');
    loading = false;
    await Promise.all(load);
    // Never a hang: every request was answered, failures with the retryable code.
    expect(outcomes.filter((o) => o === 'timeout' || o === 'slow')).toEqual([]);
    expect(new Set(outcomes)).toEqual(new Set(['ack', 'SERVER_UNAVAILABLE']));
    for (const c of clients.slice(0, 5)) expect(c.ws.readyState).toBe(c.ws.OPEN);

    // State rebuilt: memberships, notices, cross-node delivery, new connections, calls.
    const a = clients[0]!;
    await clients[1]!.waitFor(gone(cids[5]!), 5000);
    await waitFor(async () => (await a.call({ type: 'list_users', group: 'room' })).list.length === 5, 'listing rebuilt');
    expect((await a.call({ type: 'list_users', group: 'room' })).list.map((u: { cid: string }) => u.cid).sort()).toEqual(cids.slice(0, 5).sort());
    for (const c of clients.slice(0, 5)) await c.sync();
    const tag = Math.random();
    expect((await a.request({ type: 'post', to: 'room', message: { tag } })).result).toEqual({ delivered: 5 });
    for (const c of clients.slice(0, 5)) await c.waitFor((f) => f.type === 'message' && f.message?.tag === tag);
    const late = await t.nodes[2]!.connect('late');
    await join(late, 'room');
    await a.waitFor((f) => f.type === 'notice' && f.code === 'USER_JOINED' && f.sender === 'late');
    const ring = await a.request({ type: 'rtc', to: cids[1], call: 'after', signal: { kind: 'invite' } });
    expect(ring).toMatchObject({ type: 'ack', result: { delivered: 1 } });
    await clients[1]!.waitFor((f) => f.type === 'rtc' && f.call === 'after');
    expect((await getJson(`${t.nodes[1]!.address.url}/healthz`)).body).toMatchObject({ redis: 'up' });
    const counts = { ack: outcomes.filter((o) => o === 'ack').length, unavailable: outcomes.filter((o) => o === 'SERVER_UNAVAILABLE').length };
    console.info(`[cluster] Redis restart under load: ${counts.ack} posts acked, ${counts.unavailable} answered SERVER_UNAVAILABLE, 0 timeouts`);
  }, 60_000);
});
