/**
 * Delivery probes (connection/delivery-probe.ts): a ping carries the highest seq written before
 * it, and its pong lets the replay buffer drop every frame through that seq instead of holding it
 * for the whole resume window. Frames the client never confirmed stay and are replayed.
 */
import { describe, expect, it } from 'vitest';
import { join, startServer, useCleanup, type TestClient } from '../helpers.js';
import { connectResume, lastSeqOf } from '../resume-helpers.js';

useCleanup();

async function room(options: { autoPong: boolean; heartbeatMs?: number }) {
  const t = await startServer(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {});
  const a = await t.connect('alice');
  const b = await t.connect('bob', { autoPong: options.autoPong });
  await join(a, 'room');
  await join(b, 'room');
  await b.sync();
  return { t, a, b, welcome: await b.welcome };
}

async function post(from: TestClient, count: number, to: TestClient): Promise<void> {
  for (let n = 1; n <= count; n++) await from.request({ type: 'post', to: 'room', message: { n } });
  await to.waitFor((f) => f.type === 'message' && f.message.n === count);
}

describe('delivery probes', () => {
  it('frames a pong confirmed leave the buffer: a resume claiming fewer is refused (gap_expired)', async () => {
    const { t, a, b, welcome } = await room({ autoPong: true });
    const pings: string[] = [];
    b.ws.on('ping', (data: Buffer) => pings.push(data.toString()));
    await post(a, 20, b);
    await b.sync(); // b's pong went out before this request: the server has read it
    const confirmed = Number(pings[0]);
    expect(confirmed).toBeGreaterThanOrEqual(16); // the probe after 16 numbered frames
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
    await post(a, 20, b);
    await b.sync();
    const confirmed = Number(pings[0]);
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
    const t = await startServer();
    const a = await t.connect('alice');
    const b = await t.connect('bob', { autoPong: false });
    const pings: string[] = [];
    b.ws.on('ping', (data: Buffer) => pings.push(data.toString()));
    await join(a, 'room');
    await join(b, 'room');
    await post(a, 100, b);
    await b.sync();
    expect(pings).toHaveLength(1); // 100 numbered frames would have taken 6 probes
    b.ws.pong(Buffer.from(pings[0]!));
    await b.sync(); // the server read the pong before this
    await post(a, 20, b);
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

  it('stands for an answered probe: no probe goes out until 16 more frames were sent after it', async () => {
    const { a, b } = await room({ autoPong: true });
    const pings: string[] = [];
    b.ws.on('ping', (data: Buffer) => pings.push(data.toString()));
    await post(a, 10, b);
    const probedBefore = pings.filter((p) => p !== '').length;
    await receipt(b, lastSeqOf(b));
    const confirmed = lastSeqOf(b);
    await post(a, 10, b); // ~20 numbered frames (posts' copies and acks): not 16 past the receipt for b
    await b.sync();
    const after = pings.filter((p) => p !== '').slice(probedBefore);
    // Without the receipt, b's probe after 16 frames would have asked about a seq here.
    expect(after.every((p) => Number(p) >= confirmed + 16)).toBe(true);
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
