/**
 * The synchronous relay path (handlers/fast.ts, connection/run-frame.ts): an rtc description or
 * candidate and a post to one cid, run before onFrame returns when the connection's queue is idle.
 * It must keep every check and the order of a connection's frames, and give the same frames as
 * the async handlers: these tests compare it with a server whose store has no synchronous lookups
 * (so every frame takes the async path).
 */
import { createMemoryStore, type Store } from '@switchboard/server';
import { describe, expect, it } from 'vitest';
import { join, startServer, useCleanup, type Frame, type TestClient } from './helpers.js';

useCleanup();

/** The memory store without peekConnection/peekCall: every relay takes the async handlers. */
function asyncOnlyStore(): Store {
  const { peekConnection: _p, peekCall: _c, ...rest } = createMemoryStore();
  return rest;
}

const strip = ({ seq: _seq, ...frame }: Frame) => frame;

async function relayFrames(runtime?: { store: Store }) {
  const t = await startServer({}, runtime);
  const a = await t.connect('alice', { name: 'Alice' });
  const b = await t.connect('bob', { name: 'Bob' });
  const aCid = (await a.welcome).cid as string;
  const bCid = (await b.welcome).cid as string;
  await join(a, 'room');
  await join(b, 'room');
  const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n\u2603 "quoted" \\ back';
  const acks = [
    await a.request({ type: 'rtc', to: bCid, call: 'c1', signal: { kind: 'description', description: { type: 'offer', sdp }, pc: 1 } }),
    await a.request({
      type: 'rtc',
      to: bCid,
      call: 'c1',
      signal: { kind: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host', sdpMid: '0' } },
    }),
    await a.request({ type: 'post', to: bCid, message: { text: 'hi', n: [1, 2] } }),
    await a.request({ type: 'post', to: 'cid:nobody', message: 'x' }),
    await a.request({ type: 'rtc', to: aCid, call: 'c1', signal: { kind: 'candidate', candidate: null } }),
  ];
  await b.sync();
  return { acks: acks.map(strip), received: b.all((f) => f.type === 'rtc' || f.type === 'private').map(strip), aCid };
}

describe('synchronous relay path', () => {
  it('sends the same frames and answers as the async handlers', async () => {
    const fast = await relayFrames();
    const slow = await relayFrames({ store: asyncOnlyStore() });
    const withoutCids = (frames: Frame[], cid: string) => JSON.parse(JSON.stringify(frames).replaceAll(cid, 'CID')) as Frame[];
    expect(withoutCids(fast.received, fast.aCid)).toEqual(withoutCids(slow.received, slow.aCid));
    expect(fast.received).toHaveLength(3);
    expect(fast.acks.map((f) => [f.type, f['result'] ?? f['code']])).toEqual([
      ['ack', { delivered: 1 }],
      ['ack', { delivered: 1 }],
      ['ack', { delivered: 1 }],
      ['error', 'RECIPIENT_NOT_FOUND'],
      ['error', 'INVALID_REQUEST'],
    ]);
    expect(fast.acks).toEqual(slow.acks);
  });

  it("keeps a connection's order: a signal sent right behind a join waits for it (and is allowed by it)", async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    const bCid = (await b.welcome).cid as string;
    await join(b, 'room');
    // No await between them: the join is still running when the signal arrives.
    a.send({ type: 'join', id: 1, group: 'room' });
    a.send({ type: 'rtc', id: 2, to: bCid, call: 'c', signal: { kind: 'candidate', candidate: null } });
    a.send({ type: 'post', id: 3, to: bCid, message: 'after' });
    await a.waitFor((f) => f['id'] === 3);
    const replies = a.all((f) => f['id'] !== undefined && f['id'] !== null);
    expect(replies.map((f) => [f['id'], f.type])).toEqual([
      [1, 'ack'],
      [2, 'ack'],
      [3, 'ack'],
    ]);
    expect(replies.map((f) => f['seq'] as number)).toEqual([...replies.map((f) => f['seq'] as number)].sort((x, y) => x - y));
    expect((await b.waitFor('private')).message).toBe('after');
  });

  it('a call between connections that share no group: relayed while the call exists, FORBIDDEN after the hang-up', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    const bCid = (await b.welcome).cid as string;
    await join(a, 'room');
    await join(b, 'room');
    expect(await a.request({ type: 'rtc', to: bCid, call: 'c', signal: { kind: 'invite' } })).toMatchObject({ type: 'ack' });
    const aCid = (await a.welcome).cid as string;
    expect(await b.request({ type: 'rtc', to: aCid, call: 'c', signal: { kind: 'accept' } })).toMatchObject({ type: 'ack' });
    await join(b, null); // no shared group any more: the call allows it
    const candidate = { kind: 'candidate', candidate: null };
    expect(await a.request({ type: 'rtc', to: bCid, call: 'c', signal: candidate })).toMatchObject({ type: 'ack', result: { delivered: 1 } });
    expect(await a.request({ type: 'rtc', to: bCid, call: 'other', signal: candidate })).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    expect(await a.request({ type: 'rtc', to: bCid, call: 'c', signal: { kind: 'hangup' } })).toMatchObject({ type: 'ack' });
    expect(await a.request({ type: 'rtc', to: bCid, call: 'c', signal: candidate })).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
  });

  it('numbers acks and relayed frames in one sequence per connection, fast and async paths mixed', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    const aCid = (await a.welcome).cid as string;
    const bCid = (await b.welcome).cid as string;
    await join(a, 'room');
    await join(b, 'room');
    for (let i = 0; i < 20; i++) {
      a.send({ type: 'post', id: 100 + i, to: i % 3 === 0 ? 'room' : bCid, message: i });
      b.send({ type: 'rtc', id: 200 + i, to: aCid, call: 'c', signal: { kind: 'candidate', candidate: null } });
    }
    await a.waitFor((f) => f['id'] === 119);
    await b.waitFor((f) => f['id'] === 219);
    await a.sync();
    await b.sync();
    for (const c of [a, b] as TestClient[]) {
      const seqs = c.all((f) => typeof f['seq'] === 'number').map((f) => f['seq'] as number);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    }
    expect(b.all('private').map((f) => f.message)).toEqual([1, 2, 4, 5, 7, 8, 10, 11, 13, 14, 16, 17, 19]);
  });
});
