/**
 * Write batching (Connection.send): the frames one socket gets in an event-loop tick leave in
 * one write on the raw TCP/TLS socket, in order; close frames, destroyed sockets and the
 * slow-consumer check still behave. Writes are counted on the server's side of each connection
 * (net.Socket#_write/_writev, which TLSSocket inherits), told apart from the clients' sockets
 * (same process) by port.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { buildFrame, createLocalDelivery, createServer, type Delivery } from '../src/index.js';
import { join, LOG_LEVEL, SECRET, startServer, tempDir, TestClient, useCleanup, type Frame } from './helpers.js';
import { watchServerSockets } from './socket-writes.js';

useCleanup();
afterEach(() => vi.restoreAllMocks());

const pong = (ts: number) => buildFrame({ type: 'pong', ts });
const tsOf = (frames: Frame[]) => frames.filter((f) => f.type === 'pong').map((f) => f['ts'] as number);

/** Resolves once `client` has `count` pong frames. */
async function pongs(client: TestClient, count: number): Promise<number[]> {
  await client.waitFor((f) => f.type === 'pong' && f['ts'] === count - 1, 5000);
  return tsOf(client.frames);
}

async function withDelivery() {
  const delivery: Delivery = createLocalDelivery();
  const t = await startServer({}, { delivery });
  const clients: TestClient[] = [];
  for (const user of ['a', 'b', 'c']) clients.push(await t.connect(user));
  const cids = await Promise.all(clients.map(async (c) => (await c.welcome)['cid'] as string));
  return { t, delivery, clients, cids };
}

describe('write batching', () => {
  it('a burst of frames in one tick leaves each socket in one write, in order', async () => {
    const { t, delivery, clients, cids } = await withDelivery();
    const watch = watchServerSockets(t.address.port);
    const K = 200;
    for (let i = 0; i < K; i++) void delivery.send(cids, pong(i));
    for (const c of clients) expect(await pongs(c, K)).toEqual([...Array(K).keys()]);
    for (const c of clients) {
      // Without batching: one write per frame (ws writes header + payload as a corked pair).
      expect(watch.of(c).writes).toBe(1);
      expect(watch.of(c).chunks).toBe(2 * K);
    }
  });

  it('keeps order across many ticks; at most one write per socket per tick', async () => {
    const { t, delivery, clients, cids } = await withDelivery();
    const watch = watchServerSockets(t.address.port);
    const TICKS = 25;
    const PER_TICK = 8;
    let ts = 0;
    for (let tick = 0; tick < TICKS; tick++) {
      for (let i = 0; i < PER_TICK; i++) void delivery.send(cids, pong(ts++));
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const c of clients) {
      expect(await pongs(c, ts)).toEqual([...Array(ts).keys()]);
      expect(watch.of(c).writes).toBeGreaterThanOrEqual(1);
      expect(watch.of(c).writes).toBeLessThanOrEqual(TICKS);
    }
  });

  it("a post's copy to the sender and its ack leave in one write, copy first", async () => {
    const t = await startServer();
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    await join(alice, 'room');
    await join(bob, 'room');
    await alice.sync(); // nothing from the joins still on its way to alice
    const watch = watchServerSockets(t.address.port);
    const reply = await alice.request({ type: 'post', to: 'room', message: { n: 1 } });
    expect(reply.result).toEqual({ delivered: 2 });
    await bob.waitFor('message');
    const types = alice.frames.map((f) => f.type);
    expect(types.lastIndexOf('message')).toBe(types.length - 2);
    expect(types.at(-1)).toBe('ack');
    expect(watch.of(alice).writes).toBe(1);
    expect(watch.of(alice).chunks).toBe(4);
    expect(watch.of(bob).writes).toBe(1);
  });

  it('posts sent back to back by several members arrive complete and in per-sender order', async () => {
    const t = await startServer({ limits: { messagesPerSecond: 100_000, messageBurst: 100_000 } });
    const members: TestClient[] = [];
    for (const user of ['m1', 'm2', 'm3', 'm4']) {
      const c = await t.connect(user);
      await join(c, 'burst');
      members.push(c);
    }
    const N = 150;
    for (let i = 0; i < N; i++) for (const [s, c] of members.entries()) c.send({ type: 'post', id: 1000 + i, to: 'burst', message: { s, i } });
    for (const c of members) {
      for (let s = 0; s < members.length; s++) {
        await c.waitFor((f) => f.type === 'message' && f['message'].s === s && f['message'].i === N - 1, 10_000);
      }
      // Every sender's messages are complete and in order at every member (group sends reach all members).
      for (let s = 0; s < members.length; s++) {
        const seen = c.all((f) => f.type === 'message' && f['message'].s === s).map((f) => f['message'].i as number);
        expect(seen).toEqual([...Array(N).keys()]);
      }
    }
    // Each sender's own copy of post i precedes its ack, which precedes its copy of post i + 1.
    for (const [s, c] of members.entries()) {
      await c.waitFor((f) => f.type === 'ack' && f['id'] === 1000 + N - 1, 5000);
      const own = c.all((f) => (f.type === 'message' && f['message'].s === s) || (f.type === 'ack' && f['id'] >= 1000));
      const expected = [...Array(N).keys()].flatMap((i) => [`message ${i}`, `ack ${1000 + i}`]);
      expect(own.map((f) => (f.type === 'ack' ? `ack ${f['id']}` : `message ${f['message'].i}`))).toEqual(expected);
    }
  });

  it('a close in the same tick goes out after the frames queued before it', async () => {
    const { t, delivery, clients, cids } = await withDelivery();
    const K = 50;
    for (let i = 0; i < K; i++) void delivery.send(cids, pong(i));
    const closing = t.server.close(); // closeWith(SERVER_SHUTDOWN) runs synchronously in this tick
    for (const c of clients) {
      expect((await c.closed).code).toBe(4000);
      expect(tsOf(c.frames)).toEqual([...Array(K).keys()]);
    }
    await closing;
  });

  it('a socket destroyed mid-tick is uncorked without throwing; the others are unaffected', async () => {
    const { t, delivery, clients, cids } = await withDelivery();
    const watch = watchServerSockets(t.address.port);
    const K = 20;
    for (let i = 0; i < K; i++) void delivery.send(cids, pong(i));
    const victim = watch.of(clients[0]!).socket;
    expect(victim).not.toBeNull();
    victim!.destroy(); // same tick: the corked frames are dropped, the pending uncork must be a no-op
    expect((await clients[0]!.closed).code).toBe(1006);
    for (const c of clients.slice(1)) expect(await pongs(c, K)).toEqual([...Array(K).keys()]);
    // The server noticed, cleaned up and still serves the others.
    await clients[1]!.sync();
    await vi.waitFor(() => expect(t.server.connectionCount()).toBe(2), { timeout: 5000 });
  });

  it('the slow-consumer check counts frames still corked in this tick', async () => {
    const delivery = createLocalDelivery();
    const t = await startServer({ limits: { maxBufferedBytes: 64 * 1024 } }, { delivery });
    const c = await t.connect('slow');
    const cid = (await c.welcome)['cid'] as string;
    // 20 × 8 KiB in one tick: nothing reaches the kernel before the uncork, so only the
    // corked bytes can push bufferedAmount over the 64 KiB limit.
    const frame = { type: 'pong' as const, data: Buffer.from(`{"type":"pong","ts":0,"pad":"${'x'.repeat(8 * 1024)}"}`) };
    const sends: Promise<number>[] = [];
    for (let i = 0; i < 20; i++) sends.push(delivery.send([cid], frame));
    const accepted = (await Promise.all(sends)).reduce((a, b) => a + b, 0);
    expect(accepted).toBeGreaterThan(1);
    expect(accepted).toBeLessThan(20);
    expect((await c.closed).code).toBe(4002);
  });

  it('batches on TLS sockets too', async () => {
    const delivery = createLocalDelivery();
    const server = createServer({ dataDir: tempDir(), auth: { secrets: [SECRET] }, logLevel: LOG_LEVEL }, { delivery });
    const address = await server.listen(0, '127.0.0.1');
    try {
      expect(address.protocol).toBe('https');
      const ca = readFileSync(address.certPath!, 'utf8');
      const token = await server.issueToken({ user_id: 'tls-user' });
      const ws = new WebSocket(address.realtimeUrl, ['switchboard.v1', `bearer.${token}`], { ca });
      const frames: Frame[] = [];
      const K = 100;
      const done = new Promise<void>((resolve, reject) => {
        ws.on('message', (d) => {
          const f = JSON.parse(d.toString()) as Frame;
          frames.push(f);
          if (f.type === 'welcome') {
            const watch = watchServerSockets(address.port);
            for (let i = 0; i < K; i++) void delivery.send([f['cid'] as string], pong(i));
            const side = watch.of(ws);
            expect(side.socket?.constructor.name).toBe('TLSSocket');
            void (async () => {
              while (tsOf(frames).length < K) await new Promise((r) => ws.once('message', r));
              expect(side.writes).toBe(1);
              resolve();
            })().catch(reject);
          }
        });
        ws.once('error', reject);
      });
      await done;
      expect(tsOf(frames)).toEqual([...Array(K).keys()]);
      ws.close();
      await new Promise((r) => ws.once('close', r));
    } finally {
      await server.close();
    }
  });
});
