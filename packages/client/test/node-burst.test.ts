/**
 * A burst the SDK sends itself never ends its session. 3,000 posts of 7 KB at once back up the
 * Node SDK's socket for a while; the server's delivery probes (ws pings) get their pongs only once
 * the backlog is written, and ws clients drop their socket when 60 pongs wait unsent. The server
 * keeps one probe unanswered at a time (docs/protocol.md §12), so the connection lives through it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Switchboard } from '../src/node/index.js';
import { Recorder } from './recorder.js';
import { startServer, until, type TestServer } from './server.js';

const POSTS = 3_000;

let server: TestServer;
beforeAll(async () => {
  // The default 50 messages/s would have the SDK pace this burst over a minute.
  server = await startServer({ limits: { messagesPerSecond: 1_000_000, messageBurst: 1_000_000 } });
});
afterAll(() => server.close());

it('3,000 posts of 7 KB sent at once all resolve, each arrives once, and the session is never dropped', async () => {
  const sender = new Switchboard({ url: server.url, token: await server.token('ana') });
  const receiver = new Switchboard({ url: server.url, token: await server.token('ben') });
  const sent = new Recorder();
  const received = new Recorder();
  try {
    await sender.connectRealtime(sent.cb);
    const { cid } = await receiver.connectRealtime(received.cb);
    const text = 'x'.repeat(7_000);
    const results = await Promise.all(Array.from({ length: POSTS }, (_, n) => sender.postRealtime({ n, text }, cid)));
    expect(results.filter((r) => r.delivered === 1)).toHaveLength(POSTS);
    await until(() => received.count((e) => e.type === 'private') === POSTS, 30_000, 'every post received');
    const order = received.events.flatMap((e) => (e.type === 'private' ? [(e.message as { n: number }).n] : []));
    expect(order).toEqual(Array.from({ length: POSTS }, (_, n) => n));
    expect(sent.count((e) => e.type === 'reconnect' || e.type === 'close')).toBe(0);
  } finally {
    await Promise.all([sender.closeRealtime(), receiver.closeRealtime()]);
  }
}, 60_000);
