/**
 * The ack of a relayed description or candidate may wait (rtc.ackDelayMs) for the next frame to
 * its socket and leave in one write with it; nothing else waits, and nothing waiting is lost.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { join, startServer, useCleanup, type Frame, type TestClient } from './helpers.js';
import { connectResume, lastSeqOf } from './resume-helpers.js';
import { watchServerSockets } from './socket-writes.js';

useCleanup();
afterEach(() => vi.restoreAllMocks());

/** Longer than any scheduling hiccup, so "waited" and "did not wait" cannot be confused. */
const DELAY_MS = 1_000;
const NOT_WAITED_MS = 700;

async function callers(ackDelayMs = DELAY_MS) {
  const t = await startServer({ rtc: { ackDelayMs } });
  const alice = await t.connect('alice');
  const bob = await t.connect('bob');
  await join(alice, 'room');
  await join(bob, 'room');
  await alice.sync();
  await bob.sync();
  const aliceCid = (await alice.welcome)['cid'] as string;
  const bobCid = (await bob.welcome)['cid'] as string;
  return { t, alice, bob, aliceCid, bobCid };
}

const description = (to: string, type: 'offer' | 'answer', id?: number) => ({
  type: 'rtc',
  ...(id === undefined ? {} : { id }),
  to,
  call: 'call-1',
  signal: { kind: 'description', description: { type, sdp: `v=0\r\n${type}\r\n` } },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the ack or error answering `id`, and how long after `since` it arrived. */
async function answerTo(client: TestClient, id: number, since: number): Promise<{ frame: Frame; ms: number }> {
  const frame = await client.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f['id'] === id, 5_000);
  return { frame, ms: performance.now() - since };
}

describe('rtc.ackDelayMs', () => {
  it("a relayed signal's ack leaves in one write with the peer's answer, ack first", async () => {
    const { t, alice, bob, aliceCid, bobCid } = await callers();
    const watch = watchServerSockets(t.address.port);
    const since = performance.now();
    alice.send(description(bobCid, 'offer', 1));
    await bob.waitFor('rtc');
    bob.send(description(aliceCid, 'answer'));
    const { frame, ms } = await answerTo(alice, 1, since);
    expect(frame).toMatchObject({ type: 'ack', result: { delivered: 1 } });
    expect(ms).toBeLessThan(NOT_WAITED_MS);
    await alice.waitFor('rtc');
    const last = alice.frames.slice(-2);
    expect(last.map((f) => f.type)).toEqual(['ack', 'rtc']);
    expect(last[1]!['seq']).toBe(last[0]!['seq'] + 1);
    expect(watch.of(alice).writes).toBe(1);
  });

  it('with nothing else for its socket, the ack goes after the delay, once', async () => {
    const { alice, bobCid } = await callers();
    const since = performance.now();
    alice.send({ type: 'rtc', id: 7, to: bobCid, call: 'call-1', signal: { kind: 'candidate', candidate: null } });
    const { frame, ms } = await answerTo(alice, 7, since);
    expect(frame).toMatchObject({ type: 'ack', result: { delivered: 1 } });
    expect(ms).toBeGreaterThanOrEqual(DELAY_MS - 50);
    await alice.sync();
    expect(alice.all((f) => f['id'] === 7)).toHaveLength(1);
  });

  it('errors, the acks of other requests, and a delay of 0 do not wait', async () => {
    const { alice, bobCid } = await callers();
    let since = performance.now();
    alice.send(description(`${bobCid}-gone`, 'offer', 2));
    const refused = await answerTo(alice, 2, since);
    expect(refused.frame).toMatchObject({ type: 'error', code: 'RECIPIENT_NOT_FOUND' });
    expect(refused.ms).toBeLessThan(NOT_WAITED_MS);

    since = performance.now();
    alice.send({ type: 'post', id: 3, to: 'room', message: 'hi' });
    const posted = await answerTo(alice, 3, since);
    expect(posted.frame).toMatchObject({ type: 'ack', result: { delivered: 2 } });
    expect(posted.ms).toBeLessThan(NOT_WAITED_MS);

    const off = await callers(0);
    since = performance.now();
    off.alice.send(description(off.bobCid, 'offer', 4));
    const immediate = await answerTo(off.alice, 4, since);
    expect(immediate.frame).toMatchObject({ type: 'ack', result: { delivered: 1 } });
    expect(immediate.ms).toBeLessThan(NOT_WAITED_MS);
  });

  it('a waiting ack goes out before the close frame of a shutdown, without waiting', async () => {
    const { t, alice, bob, bobCid } = await callers();
    const since = performance.now();
    alice.send(description(bobCid, 'offer', 5));
    await bob.waitFor('rtc');
    await sleep(200); // relayed; its ack waits
    expect(alice.all((f) => f['id'] === 5)).toHaveLength(0);
    const closing = t.server.close();
    expect((await alice.closed).code).toBe(4000);
    expect(performance.now() - since).toBeLessThan(NOT_WAITED_MS + 100);
    expect(alice.frames.at(-1)).toMatchObject({ type: 'ack', id: 5 });
    await closing;
  });

  it('an ack still waiting when the socket dies is replayed by the resume, once', async () => {
    const { t, alice, bob, bobCid } = await callers();
    const welcome = await alice.welcome;
    alice.send(description(bobCid, 'offer', 6));
    await bob.waitFor('rtc');
    await sleep(200); // relayed: alice's ack is numbered and buffered, not yet written
    const before = lastSeqOf(alice);
    expect(alice.all((f) => f['id'] === 6)).toHaveLength(0);
    alice.terminate();
    await alice.closed;
    const again = await connectResume(t, t.nodes[0]!, 'alice', welcome['resume'] as string, before);
    expect(await again.welcome).toMatchObject({ resumed: true, replayTo: before + 1 });
    await again.sync();
    expect(again.all((f) => f['id'] === 6)).toEqual([expect.objectContaining({ type: 'ack', seq: before + 1, result: { delivered: 1 } })]);
  });
});
