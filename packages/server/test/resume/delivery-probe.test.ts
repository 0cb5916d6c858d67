/**
 * Delivery probes (connection/delivery-probe.ts): a ping carries the highest seq written before
 * it, and its pong lets the replay buffer drop every frame through that seq instead of holding it
 * for the whole resume window. Frames the client never confirmed stay and are replayed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeliveryProbe, PROBE_EVERY_BYTES, PROBE_EVERY_FRAMES } from '../../src/connection/delivery-probe.js';
import { join, startServer, useCleanup, type TestClient } from '../helpers.js';
import { connectResume, lastSeqOf } from '../resume-helpers.js';

useCleanup();

/** Enough posts a second for a few probes' worth in one test. */
const MANY_POSTS = { limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } };

async function room(options: { autoPong: boolean; heartbeatMs?: number }) {
  const t = await startServer(options.heartbeatMs ? { ...MANY_POSTS, heartbeatMs: options.heartbeatMs } : MANY_POSTS);
  const a = await t.connect('alice');
  const b = await t.connect('bob', { autoPong: options.autoPong });
  await join(a, 'room');
  await join(b, 'room');
  await b.sync();
  return { t, a, b, welcome: await b.welcome };
}

async function post(from: TestClient, count: number, to: TestClient, pad = ''): Promise<void> {
  for (let n = 1; n <= count; n++) await from.request({ type: 'post', to: 'room', message: { n, pad } });
  await to.waitFor((f) => f.type === 'message' && f.message.n === count);
}

/** More numbered frames than one probe waits for: b gets each post, and nothing else in between. */
const PAST_A_PROBE = PROBE_EVERY_FRAMES + 4;

describe('delivery probes', () => {
  it('frames a pong confirmed leave the buffer: a resume claiming fewer is refused (gap_expired)', async () => {
    const { t, a, b, welcome } = await room({ autoPong: true });
    const pings: string[] = [];
    b.ws.on('ping', (data: Buffer) => pings.push(data.toString()));
    await post(a, PAST_A_PROBE, b);
    await b.sync(); // b's pong went out before this request: the server has read it
    const confirmed = Number(pings.filter((p) => p !== '').at(-1));
    expect(confirmed).toBeGreaterThanOrEqual(PROBE_EVERY_FRAMES); // the probe after PROBE_EVERY_FRAMES numbered frames
    expect(confirmed).toBeLessThanOrEqual(lastSeqOf(b));
    b.terminate();
    await b.closed;
    const refused = await connectResume(t, t.nodes[0]!, 'bob', welcome.resume, confirmed - 1);
    expect(await refused.welcome).toMatchObject({ resumed: false, resumeReason: 'gap_expired' });
  });

  it('the same resume from what the client confirmed replays exactly the frames after it', async () => {
    const { t, a, b, welcome } = await room({ autoPong: true });
    const pings: string[] = [];
    b.ws.on('ping', (data: Buffer) => pings.push(data.toString()));
    await post(a, PAST_A_PROBE, b);
    await b.sync();
    const confirmed = Number(pings.filter((p) => p !== '').at(-1));
    const top = lastSeqOf(b);
    b.terminate();
    await b.closed;
    const again = await connectResume(t, t.nodes[0]!, 'bob', welcome.resume, confirmed);
    expect(await again.welcome).toMatchObject({ resumed: true, cid: welcome.cid, replayTo: top });
    await again.sync();
    const replayed = again.frames.map((f) => f['seq']).filter((seq): seq is number => typeof seq === 'number' && seq <= top);
    expect(replayed).toEqual(Array.from({ length: top - confirmed }, (_, i) => confirmed + 1 + i));
  });

  it('one probe at a time: a client slow to answer gets no other until it answers (ws clients drop a socket with 60 pongs unsent)', async () => {
    const t = await startServer(MANY_POSTS);
    const a = await t.connect('alice');
    const b = await t.connect('bob', { autoPong: false });
    const pings: string[] = [];
    b.ws.on('ping', (data: Buffer) => pings.push(data.toString()));
    await join(a, 'room');
    await join(b, 'room');
    await post(a, 4 * PROBE_EVERY_FRAMES, b);
    await b.sync();
    expect(pings).toHaveLength(1); // 4 × PROBE_EVERY_FRAMES numbered frames would have taken 4 probes
    b.ws.pong(Buffer.from(pings[0]!));
    await b.sync(); // the server read the pong before this
    await post(a, PAST_A_PROBE, b);
    await b.sync();
    expect(pings).toHaveLength(2);
    expect(Number(pings[1])).toBeGreaterThan(Number(pings[0]));
  });

  it('a client that never answers a ping keeps every frame buffered: a resume from 0 replays them all', async () => {
    const { t, a, b, welcome } = await room({ autoPong: false });
    await post(a, 20, b);
    await b.sync();
    const top = lastSeqOf(b);
    b.terminate();
    await b.closed;
    const again = await connectResume(t, t.nodes[0]!, 'bob', welcome.resume, 0);
    expect(await again.welcome).toMatchObject({ resumed: true, cid: welcome.cid, replayTo: top });
    for (let n = 1; n <= 20; n++) await again.waitFor((f) => f.type === 'message' && f.message.n === n);
  });

  it('a heartbeat asks about a seq once: with no new frame since, it is a bare ping (nothing for the store to drop)', async () => {
    const { a, b } = await room({ autoPong: true, heartbeatMs: 100 });
    const pings: string[] = [];
    b.ws.on('ping', (data: Buffer) => pings.push(data.toString()));
    await post(a, 3, b);
    const top = lastSeqOf(b);
    await expect.poll(() => pings.length, { timeout: 3_000 }).toBeGreaterThanOrEqual(4);
    // Each seq is asked about by one ping only; the heartbeats after it carry nothing.
    const numbered = pings.filter((p) => p !== '');
    expect(new Set(numbered).size).toBe(numbered.length);
    expect(numbered.at(-1)).toBe(String(top));
    expect(pings.slice(pings.lastIndexOf(String(top)) + 1).length).toBeGreaterThanOrEqual(2);
    expect(pings.slice(pings.lastIndexOf(String(top)) + 1).every((p) => p === '')).toBe(true);
  });

  it('an unsolicited pong confirms nothing beyond what was sent, and a bogus one nothing at all', async () => {
    const { t, a, b, welcome } = await room({ autoPong: false });
    await post(a, 3, b);
    const top = lastSeqOf(b);
    b.ws.pong(String(top + 1000));
    b.ws.pong('not a number');
    await b.sync();
    b.terminate();
    await b.closed;
    const again = await connectResume(t, t.nodes[0]!, 'bob', welcome.resume, 0);
    expect(await again.welcome).toMatchObject({ resumed: true, replayTo: top });
  });
});

/** Sends a frame with a receipt (`rx`, docs/protocol.md §12), as the SDK puts on the frames it sends anyway. */
async function receipt(client: TestClient, rx: number): Promise<void> {
  client.ws.send(JSON.stringify({ rx, type: 'ping' }));
  await client.sync(); // the server read it before this request
}

describe('receipts: `rx` on a client frame', () => {
  it('drops the frames through it from the buffer: a resume claiming fewer is refused (gap_expired)', async () => {
    const { t, a, b, welcome } = await room({ autoPong: false });
    await post(a, 5, b);
    await receipt(b, 3);
    b.terminate();
    await b.closed;
    const refused = await connectResume(t, t.nodes[0]!, 'bob', welcome.resume, 2);
    expect(await refused.welcome).toMatchObject({ resumed: false, resumeReason: 'gap_expired' });
  });

  it('keeps what follows it: a resume from the receipt replays exactly the frames after it', async () => {
    const { t, a, b, welcome } = await room({ autoPong: false });
    await post(a, 5, b);
    await receipt(b, 3);
    const top = lastSeqOf(b);
    b.terminate();
    await b.closed;
    const again = await connectResume(t, t.nodes[0]!, 'bob', welcome.resume, 3);
    expect(await again.welcome).toMatchObject({ resumed: true, cid: welcome.cid, replayTo: top });
    await again.sync();
    const replayed = again.frames.map((f) => f['seq']).filter((seq): seq is number => typeof seq === 'number' && seq <= top);
    expect(replayed).toEqual(Array.from({ length: top - 3 }, (_, i) => 4 + i));
  });

  it('a receipt beyond what was sent confirms nothing', async () => {
    const { t, a, b, welcome } = await room({ autoPong: false });
    await post(a, 3, b);
    const top = lastSeqOf(b);
    await receipt(b, top + 1000);
    b.terminate();
    await b.closed;
    const again = await connectResume(t, t.nodes[0]!, 'bob', welcome.resume, 0);
    expect(await again.welcome).toMatchObject({ resumed: true, replayTo: top });
  });

  it('stands for an answered probe: no probe goes out until PROBE_EVERY_FRAMES more frames were sent after it', async () => {
    const { a, b } = await room({ autoPong: true });
    const pings: string[] = [];
    b.ws.on('ping', (data: Buffer) => pings.push(data.toString()));
    await post(a, PROBE_EVERY_FRAMES - 8, b);
    const probedBefore = pings.filter((p) => p !== '').length;
    await receipt(b, lastSeqOf(b));
    const confirmed = lastSeqOf(b);
    await post(a, PROBE_EVERY_FRAMES - 8, b); // not PROBE_EVERY_FRAMES past the receipt for b
    await b.sync();
    const after = pings.filter((p) => p !== '').slice(probedBefore);
    // Without the receipt, b's probe after PROBE_EVERY_FRAMES frames would have asked about a seq here.
    expect(after.every((p) => Number(p) >= confirmed + PROBE_EVERY_FRAMES)).toBe(true);
  });

  it('a receipt that is not a positive integer is refused with INVALID_PARAMETER naming it, and the connection stays', async () => {
    const { b } = await room({ autoPong: false });
    for (const rx of ['3', 0, -1, 1.5, null]) {
      b.ws.send(JSON.stringify({ rx, type: 'join', id: 900, group: 'room' }));
      const error = await b.waitFor((f) => f.type === 'error' && f.id === 900);
      expect(error).toMatchObject({ code: 'INVALID_PARAMETER', message: expect.stringContaining('rx') });
      b.frames.length = 0;
    }
    await b.sync();
  });
});

describe('the request log keeps only requests whose answer the client has not confirmed', () => {
  it('re-sent after a resume, a request answered within what the client confirmed runs again; one answered after it, once', async () => {
    const { t, a, b, welcome } = await room({ autoPong: false });
    const sent = (id: number) => b.send({ type: 'post', id, to: 'room', message: `m${id}` });
    const ackOf = async (client: TestClient, id: number) => (await client.waitFor((f) => f.type === 'ack' && f.id === id))['seq'] as number;
    sent(501);
    const confirmed = await ackOf(b, 501);
    await receipt(b, confirmed);
    sent(502);
    const unconfirmed = await ackOf(b, 502);
    b.terminate();
    await b.closed;
    // Its pongs would confirm the replayed answer to 502 (then it may be forgotten too): none here.
    const again = await connectResume(t, t.nodes[0]!, 'bob', welcome.resume, confirmed, 10_000, { autoPong: false });
    expect(await again.welcome).toMatchObject({ resumed: true });
    expect(await ackOf(again, 502)).toBe(unconfirmed); // replayed
    // The client has 501's answer: sent again, it is a request like any other.
    again.send({ type: 'post', id: 501, to: 'room', message: 'm501' });
    expect(await ackOf(again, 501)).toBeGreaterThan(unconfirmed);
    // 502's answer may have been lost with the socket: sent again, it is the same request, dropped.
    again.send({ type: 'post', id: 502, to: 'room', message: 'm502' });
    await again.sync();
    await a.sync();
    expect(again.all((f) => f.type === 'ack' && f.id === 502)).toHaveLength(1);
    expect(a.all((f) => f.type === 'message' && f.message === 'm502')).toHaveLength(1);
    expect(a.all((f) => f.type === 'message' && f.message === 'm501')).toHaveLength(2);
  });
});

describe('DeliveryProbe: when a numbered frame takes a probe along', () => {
  const KiB = 1024;
  // The clock stands still unless a test moves it: no probe is due by time alone.
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A probe that just asked about seq 1 and got its answer, the clock standing still. */
  function answeredProbe(): DeliveryProbe {
    const probe = new DeliveryProbe();
    expect(probe.ask(1)).toBe('1');
    probe.answered(1, false);
    return probe;
  }

  it('small frames: after PROBE_EVERY_FRAMES of them, not before', () => {
    const probe = answeredProbe();
    for (let sent = 2; sent < 1 + PROBE_EVERY_FRAMES; sent++) expect(probe.wrote(sent, 200)).toBe(false);
    expect(probe.wrote(1 + PROBE_EVERY_FRAMES, 200)).toBe(true);
  });

  it('large frames: once PROBE_EVERY_BYTES of them were written since the last probe, however few', () => {
    const probe = answeredProbe();
    const size = 16 * KiB;
    const frames = PROBE_EVERY_BYTES / size;
    for (let n = 1; n < frames; n++) expect(probe.wrote(1 + n, size)).toBe(false);
    expect(probe.wrote(1 + frames, size)).toBe(true);
    expect(frames).toBeLessThan(PROBE_EVERY_FRAMES);
    // The next probe counts its bytes afresh.
    probe.ask(1 + frames);
    probe.answered(1 + frames, false);
    expect(probe.wrote(2 + frames, size)).toBe(false);
  });

  it('a receipt counts as a probe answered now: bytes are counted afresh after it', () => {
    const probe = answeredProbe();
    expect(probe.wrote(2, PROBE_EVERY_BYTES - 1)).toBe(false);
    probe.answered(2, true);
    expect(probe.wrote(3, 1)).toBe(false);
  });

  it('a second after the last probe, the next frame takes one whatever its size', () => {
    const probe = answeredProbe();
    expect(probe.wrote(2, 10)).toBe(false);
    vi.advanceTimersByTime(1_000);
    expect(probe.wrote(3, 10)).toBe(true);
  });

  it('none while one is unanswered, whatever was written since', () => {
    const probe = new DeliveryProbe();
    expect(probe.ask(1)).toBe('1');
    vi.advanceTimersByTime(5_000);
    expect(probe.wrote(1 + 2 * PROBE_EVERY_FRAMES, 2 * PROBE_EVERY_BYTES)).toBe(false);
    probe.answered(1, false);
    expect(probe.wrote(2 + 2 * PROBE_EVERY_FRAMES, 1)).toBe(true);
  });
});
