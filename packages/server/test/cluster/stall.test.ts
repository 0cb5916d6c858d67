/**
 * A Redis that stalls with its connection open (SIGSTOP: a paused VM, a blocked main thread).
 * The TCP connection stays up, so only timeouts and the health probe can tell. Default
 * commandTimeoutMs/probeIntervalMs (1 s each), as an operator would run it; a short
 * heartbeat so that what closed during the stall is announced within the test.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/index.js';
import { expectRejected, getJson, join, startServer, useCleanup } from '../helpers.js';
import { describeRedis, startRedis, type RedisHandle } from './redis.js';

useCleanup();

interface LogLine {
  level: number;
  msg: string;
}

function capturingLogger() {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text.trim() !== '') lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  return { logger: createLogger('debug', sink), lines };
}

async function until<T>(check: () => Promise<T | false> | T | false, label: string, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${label}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const metric = (text: string, name: string): number | null => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? null : Number(line.slice(name.length + 1));
};

describeRedis('Redis stalls (SIGSTOP) with its connection open', () => {
  let redis: RedisHandle;
  let frozen = false;
  const freeze = () => {
    process.kill(redis.process.pid!, 'SIGSTOP');
    frozen = true;
  };
  const thaw = () => {
    if (frozen) process.kill(redis.process.pid!, 'SIGCONT');
    frozen = false;
  };
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    if (redis) thaw();
    await redis?.stop();
  });

  it('is noticed: /healthz 503, switchboard_redis_up 0, requests fail fast with SERVER_UNAVAILABLE; then recovers with every connection and membership kept', async () => {
    const { logger, lines } = capturingLogger();
    const t = await startServer(
      { redis: redis.url, nodeId: 'stall-1', cluster: { prefix: `stall${process.pid}:`, heartbeatMs: 200, nodeTimeoutMs: 2000 } },
      { logger },
    );
    expect(t.server.config.cluster).toMatchObject({ commandTimeoutMs: 1000, probeIntervalMs: 1000 });
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    const c = await t.connect('carol');
    for (const client of [a, b, c]) await join(client, 'room');
    const cCid = (await c.welcome).cid as string;
    expect((await getJson(`${t.url}/healthz`)).status).toBe(200);
    const logsBefore = lines.length;

    freeze();
    const stoppedAt = Date.now();
    try {
      // A request sent right away waits for at most one command timeout, never one per command.
      const first = await a.request({ type: 'post', to: 'room', message: 'during' }, 5000);
      const firstMs = Date.now() - stoppedAt;
      expect(first).toMatchObject({ type: 'error', code: 'SERVER_UNAVAILABLE' });
      expect(firstMs).toBeLessThan(1500);

      const health = await until(
        async () => {
          const res = await getJson(`${t.url}/healthz`);
          return res.status === 503 ? res : false;
        },
        '/healthz turns 503',
        3000,
      );
      const detectedMs = Date.now() - stoppedAt;
      expect(detectedMs).toBeLessThan(2500);
      expect(health.body).toMatchObject({ status: 'unavailable', redis: 'down', connections: 3 });

      const metrics = await fetch(`${t.url}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(metric(text, 'switchboard_redis_up')).toBe(0);
      expect(metric(text, 'switchboard_redis_command_timeouts_total')).toBeGreaterThanOrEqual(1);

      // Once noticed, requests answer at once, whatever they need from Redis.
      for (const frame of [
        { type: 'join', group: 'other' },
        { type: 'post', to: 'room', message: 'x' },
        { type: 'list_users', group: 'room' },
      ]) {
        const sent = Date.now();
        expect(await b.request(frame, 5000)).toMatchObject({ type: 'error', code: 'SERVER_UNAVAILABLE' });
        expect(Date.now() - sent).toBeLessThan(500);
      }
      const refused = Date.now();
      expect(await expectRejected(t.wsUrl, { token: await t.token('late') })).toMatchObject({ status: 503, body: { code: 'SERVER_UNAVAILABLE' } });
      expect(Date.now() - refused).toBeLessThan(500);
      await c.close(); // closes during the stall: announced once Redis answers again

      // The stall lasts at least 2 s: nobody is dropped for that.
      await new Promise((r) => setTimeout(r, Math.max(0, 2000 - (Date.now() - stoppedAt))));
      console.info(`[cluster] Redis stalled: first request failed after ${firstMs} ms, /healthz 503 after ${detectedMs} ms`);
    } finally {
      thaw();
    }
    const resumedAt = Date.now();
    await until(async () => (await getJson(`${t.url}/healthz`)).status === 200, '/healthz back to 200', 3000);
    const recoveredMs = Date.now() - resumedAt;
    expect(recoveredMs).toBeLessThan(2000);
    expect((await getJson(`${t.url}/healthz`)).body).toMatchObject({ status: 'ok', redis: 'up' });
    expect(metric(await (await fetch(`${t.url}/metrics`)).text(), 'switchboard_redis_up')).toBe(1);

    for (const client of [a, b]) expect(client.ws.readyState).toBe(client.ws.OPEN);
    expect(await a.request({ type: 'post', to: 'room', message: 'after' })).toMatchObject({ type: 'ack' });
    await b.waitFor((f) => f.type === 'message' && f['message'] === 'after');
    await b.waitFor((f) => f.type === 'notice' && f['code'] === 'USER_DISCONNECTED' && f['sender_cid'] === cCid, 5000);
    const users = await until(
      async () => {
        const list = (await a.call({ type: 'list_users', group: 'room' })).list as { user_id: string }[];
        return list.length === 2 ? list : false;
      },
      'carol leaves the listing',
      5000,
    );
    expect(users.map((u) => u.user_id).sort()).toEqual(['alice', 'bob']);
    const d = await t.connect('dave');
    await join(d, 'room');
    await a.waitFor((f) => f.type === 'notice' && f['code'] === 'USER_JOINED' && f['sender'] === 'dave');
    console.info(`[cluster] Redis answered again: /healthz 200 after ${recoveredMs} ms`);

    // Logs: nothing at error level; one warn when Redis stopped answering, one when it answered again.
    const during = lines.slice(logsBefore);
    expect(during.filter((l) => l.level >= 50)).toEqual([]);
    expect(during.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      'cluster: Redis is not answering; requests that need it answer SERVER_UNAVAILABLE until it does',
      'cluster: Redis answers again',
    ]);
  }, 30_000);

  it('an idle node notices by its probe alone (PING every probeIntervalMs), and comes back without restarting', async () => {
    const { logger, lines } = capturingLogger();
    const t = await startServer({ redis: redis.url, nodeId: 'stall-2', cluster: { prefix: `stall${process.pid}b:` } }, { logger });
    const a = await t.connect('alice');
    await join(a, 'room');
    freeze();
    const stoppedAt = Date.now();
    try {
      await until(async () => (await getJson(`${t.url}/healthz`)).status === 503, '/healthz turns 503 without traffic', 4000);
    } finally {
      thaw();
    }
    const detectedMs = Date.now() - stoppedAt;
    // At worst a PING was just answered: the next one goes out 1 s later and gets 1 s to answer.
    expect(detectedMs).toBeLessThan(3000);
    await until(async () => (await getJson(`${t.url}/healthz`)).status === 200, '/healthz back to 200', 3000);
    expect(await a.request({ type: 'post', to: 'room', message: 'back' })).toMatchObject({ type: 'ack', result: { delivered: 1 } });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    console.info(`[cluster] idle node: Redis stall noticed by the probe after ${detectedMs} ms`);
  }, 20_000);
});
