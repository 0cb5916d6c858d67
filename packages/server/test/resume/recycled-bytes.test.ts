/**
 * Slab bytes given back for reuse (wire-bytes.ts, TextFrame.letGo): a relayed description's
 * numbered copy is reused only once its one socket has written it and its client confirmed it.
 * The live test (recycled-bytes-live.test.ts) checks that no socket ever sends reused bytes.
 */
import { decodeClientMessage } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { createMemoryReplayStore } from '../../src/resume/memory-replay.js';
import { withSeq } from '../../src/resume/frame.js';
import { buildFrame } from '../../src/state/delivery.js';
import { TextFrame } from '../../src/state/outbound-frame.js';
import { recycleWireBytes, wireBytes } from '../../src/state/wire-bytes.js';

const LIMITS = { windowMs: 30_000, maxFrames: 1_000, maxBytes: 1024 * 1024, maxAgeMs: 60_000 };

/** Two carvings that fill one fresh slab (slabs are 16 KiB; 8 KiB is the largest carving). */
function freshSlabPair(): [Buffer, Buffer] {
  let first = wireBytes(8192);
  while (first.byteOffset !== 0) first = wireBytes(8192);
  const second = wireBytes(8192);
  expect(second.buffer).toBe(first.buffer);
  return [first, second];
}

/** Carves until the slab after the current one is started: the first carving from it. */
function nextSlab(): Buffer {
  let bytes = wireBytes(8192);
  while (bytes.byteOffset !== 0) bytes = wireBytes(8192);
  return bytes;
}

/** A relayed description as the server builds it (its SDP in its own part), `size` bytes of SDP. */
function relayedDescription(size: number, fill = 'a'): TextFrame {
  const sdp = `v=0\r\n${fill.repeat(size)}`;
  const decoded = decodeClientMessage(
    JSON.stringify({ type: 'rtc', id: 1, to: 'cid:b', call: 'c1', signal: { kind: 'description', description: { type: 'offer', sdp } } }),
  );
  if (!decoded.ok || decoded.value.type !== 'rtc') throw new Error('the description did not decode');
  return buildFrame({ type: 'rtc', call: 'c1', sender: 'a', sender_cid: 'cid:a', sender_name: 'A', signal: decoded.value.signal }) as TextFrame;
}

describe('slab bytes given back', () => {
  it('a slab is reused once every frame carved from it is given back, not before', () => {
    const [a, b] = freshSlabPair();
    recycleWireBytes(a);
    recycleWireBytes(b);
    const c = nextSlab(); // the full slab goes to the spares as this one is taken
    wireBytes(8192);
    expect(nextSlab().buffer).toBe(a.buffer);
    expect(c.buffer).not.toBe(a.buffer);
  });

  it('a frame dropped without being given back keeps its slab from reuse', () => {
    const [a, b] = freshSlabPair();
    recycleWireBytes(a);
    void b; // written and dropped: never given back
    const seen = new Set<ArrayBufferLike>();
    for (let i = 0; i < 200; i++) seen.add(wireBytes(8192).buffer);
    expect(seen.has(a.buffer)).toBe(false);
  });

  it('giving the same bytes back twice, or bytes not from a slab, changes nothing', () => {
    const [a, b] = freshSlabPair();
    recycleWireBytes(a);
    recycleWireBytes(a); // must not stand for b
    recycleWireBytes(Buffer.alloc(5000));
    const seen = new Set<ArrayBufferLike>();
    for (let i = 0; i < 200; i++) seen.add(wireBytes(8192).buffer);
    expect(seen.has(b.buffer)).toBe(false);
  });
});

describe('a relayed description in the memory replay store', () => {
  it('gives its numbered copy back when its client confirms it with nothing left to write', async () => {
    const store = createMemoryReplayStore(LIMITS);
    await store.open('cid:b', 'bob', 'n1');
    const frame = relayedDescription(6000);
    const seq = store.appendNow!('cid:b', frame);
    const copy = withSeq(frame, seq).data;
    expect(copy.toString('utf8')).toMatch(/^\{"seq":1,"type":"rtc"/);
    store.received('cid:b', seq, true);
    expect(() => frame.data).toThrow(/given back/);
  });

  it('keeps it when the socket still has bytes to write, or when the buffer drops it for its limits', async () => {
    const store = createMemoryReplayStore({ ...LIMITS, maxFrames: 1 });
    await store.open('cid:b', 'bob', 'n1');
    const pending = relayedDescription(6000);
    const seq = store.appendNow!('cid:b', pending);
    const copy = withSeq(pending, seq).data.toString('utf8');
    store.received('cid:b', seq, false);
    expect(pending.data.toString('utf8')).toBe(`{${copy.slice('{"seq":1,'.length)}`);

    const trimmed = relayedDescription(6000, 'b');
    withSeq(trimmed, store.appendNow!('cid:b', trimmed));
    store.appendNow!('cid:b', relayedDescription(6000, 'c')); // over maxFrames: the one before goes
    expect(trimmed.text).toContain('bbbb');
  });

  it('keeps a frame that two buffers held (a copy went to each socket)', async () => {
    const store = createMemoryReplayStore(LIMITS);
    await store.open('cid:b', 'bob', 'n1');
    await store.open('cid:c', 'carol', 'n1');
    const frame = relayedDescription(6000);
    const [b, c] = await store.append(['cid:b', 'cid:c'], frame);
    withSeq(frame, b!.seq);
    withSeq(frame, c!.seq);
    store.received('cid:b', b!.seq, true);
    store.received('cid:c', c!.seq, true);
    expect(frame.text).toContain('"type":"rtc"');
  });

  it('keeps the frames of a cid resumed by another socket: the old one may still be writing them', async () => {
    const store = createMemoryReplayStore(LIMITS);
    const { epoch, generation } = await store.open('cid:b', 'bob', 'n1');
    const frame = relayedDescription(6000);
    const seq = store.appendNow!('cid:b', frame);
    withSeq(frame, seq);
    await store.away('cid:b', generation);
    const claim = await store.claim({ userId: 'bob', cid: 'cid:b', epoch, generation }, seq, 'n1'); // the client had it
    expect(claim.resumed).toBe(true);
    store.received('cid:b', seq, true);
    expect(frame.text).toContain('"type":"rtc"');
  });
});
