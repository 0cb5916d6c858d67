/**
 * Session resume on live sockets (docs/adr/0008-resume.md): a raw client that reconnects with
 * `?resume=<token>&lastSeq=<n>` gets the same cid and every numbered frame it missed, in order
 * and once; its group sees nothing. Re-run across three nodes in cluster/resume-cross-node.test.ts,
 * where every resume lands on another node than the one the connection left.
 */
import { describe, expect, it } from 'vitest';
import { getJson, join, startServer, useCleanup, type Frame, type TestClient, type TestServer } from './helpers.js';
import { connectResume, lastSeqOf, nextNode } from './resume-helpers.js';

useCleanup();

const notices = (c: TestClient, code: string, cid: string) => c.all((f) => f.type === 'notice' && f.code === code && f.sender_cid === cid);
const seqs = (frames: Frame[]) => frames.map((f) => f['seq'] as number);

async function roomOf(t: TestServer) {
  const a = await t.connect('alice');
  const b = await t.connect('bob');
  const bWelcome = await b.welcome;
  await join(a, 'room');
  await join(b, 'room');
  await b.sync();
  return { a, b, bWelcome, bCid: bWelcome.cid as string };
}

describe('resume (live sockets)', () => {
  it('client-side drop: same cid, the frames posted meanwhile replayed in order once, the group saw nothing', async () => {
    const t = await startServer();
    const { a, b, bWelcome, bCid } = await roomOf(t);
    expect(bWelcome.resume).toEqual(expect.any(String));
    const lastSeq = lastSeqOf(b);
    b.terminate();
    await b.closed;
    for (let i = 1; i <= 5; i++) {
      expect((await a.request({ type: 'post', to: 'room', message: { n: i } })).result).toEqual({ delivered: 2 });
    }
    const target = nextNode(t, bWelcome);
    const again = await connectResume(t, target, 'bob', bWelcome.resume, lastSeq);
    const welcome = await again.welcome;
    expect(welcome).toMatchObject({ cid: bCid, resumed: true, replayTo: lastSeq + 5 });
    const metrics = String((await getJson(`${target.address.url}/metrics`)).body);
    expect(metrics).toMatch(/^switchboard_resumes_total\{outcome="resumed"\} 1$/m);
    expect(metrics).toMatch(/^switchboard_replayed_frames_total 5$/m);
    expect(welcome.resume).not.toBe(bWelcome.resume);
    const replayed = [];
    for (let i = 1; i <= 5; i++) replayed.push(await again.waitFor((f) => f.type === 'message' && f.message.n === i));
    expect(seqs(replayed)).toEqual([1, 2, 3, 4, 5].map((n) => lastSeq + n));
    // Live traffic after the replay, numbered on.
    await a.request({ type: 'post', to: 'room', message: { n: 6 } });
    expect((await again.waitFor((f) => f.type === 'message' && f.message.n === 6)).seq).toBe(lastSeq + 6);
    await again.sync();
    expect(again.all('message')).toHaveLength(6);
    expect(again.frames[0]!.type).toBe('welcome');
    await a.sync();
    expect(notices(a, 'USER_DISCONNECTED', bCid)).toHaveLength(0);
    expect(notices(a, 'USER_JOINED', bCid)).toHaveLength(1); // the original join only
    expect((await again.call({ type: 'list_users' })).list).toHaveLength(2);
  });

  it('server-side terminate (heartbeat): the same', async () => {
    const t = await startServer({ heartbeatMs: 100 });
    const a = await t.connect('alice');
    const silent = await t.connect('bob', { autoPong: false });
    const welcome = await silent.welcome;
    await join(a, 'room');
    await join(silent, 'room');
    const lastSeq = lastSeqOf(silent);
    expect((await silent.closed).code).toBe(1006);
    await a.request({ type: 'post', to: 'room', message: 'while away' });
    const again = await connectResume(t, nextNode(t, welcome), 'bob', welcome.resume, lastSeq);
    expect(await again.welcome).toMatchObject({ cid: welcome.cid, resumed: true });
    expect((await again.waitFor('message')).message).toBe('while away');
    await a.sync();
    expect(notices(a, 'USER_DISCONNECTED', welcome.cid)).toHaveLength(0);
  });

  it('after the window: not resumed (expired), a new cid; USER_DISCONNECTED went out at the window end', async () => {
    const t = await startServer({ resume: { windowMs: 300 } });
    const { a, b, bWelcome, bCid } = await roomOf(t);
    const lastSeq = lastSeqOf(b);
    b.terminate();
    const gone = await a.waitFor((f) => f.code === 'USER_DISCONNECTED' && f.sender_cid === bCid, 5000);
    expect(gone.sender).toBe('bob');
    const again = await connectResume(t, nextNode(t, bWelcome), 'bob', bWelcome.resume, lastSeq);
    const welcome = await again.welcome;
    expect(welcome).toMatchObject({ resumed: false, resumeReason: 'expired' });
    expect(welcome.cid).not.toBe(bCid);
    expect(welcome.replayTo).toBeUndefined();
  });

  it('a request re-sent with the same id after the resume runs once', async () => {
    const t = await startServer();
    const { a, b, bWelcome } = await roomOf(t);
    const lastSeq = lastSeqOf(b);
    b.send({ type: 'post', id: 77, to: 'room', message: 'once' });
    await a.waitFor((f) => f.type === 'message' && f.message === 'once');
    b.terminate();
    const again = await connectResume(t, nextNode(t, bWelcome), 'bob', bWelcome.resume, lastSeq);
    expect(await again.welcome).toMatchObject({ resumed: true });
    // The client re-sends what it did not see answered; the first run's ack is in the replay.
    again.send({ type: 'post', id: 77, to: 'room', message: 'once' });
    const ack = await again.waitFor((f) => f.type === 'ack' && f.id === 77);
    expect(ack.result).toEqual({ delivered: 2 });
    await again.sync();
    await a.sync();
    expect(a.all((f) => f.type === 'message' && f.message === 'once')).toHaveLength(1);
    expect(again.all((f) => f.type === 'ack' && f.id === 77)).toHaveLength(1);
    // A new request with a new id runs as usual.
    expect((await again.request({ type: 'post', to: 'room', message: 'new' })).type).toBe('ack');
  });

  it('a call survives a 2 s absence of one side: the signal sent meanwhile arrives after the resume, no hangup', async () => {
    const t = await startServer();
    const { a: caller, b: callee, bWelcome, bCid } = await roomOf(t);
    const callerCid = (await caller.welcome).cid as string;
    const signal = (from: TestClient, to: string, s: Record<string, unknown>) => from.request({ type: 'rtc', to, call: 'c1', signal: s });
    expect((await signal(caller, bCid, { kind: 'invite' })).type).toBe('ack');
    await callee.waitFor((f) => f.type === 'rtc' && f.signal.kind === 'invite');
    expect((await signal(callee, callerCid, { kind: 'accept' })).type).toBe('ack');
    await caller.waitFor((f) => f.type === 'rtc' && f.signal.kind === 'accept');
    const lastSeq = lastSeqOf(callee);
    callee.terminate();
    await callee.closed;
    const offer = { kind: 'description', description: { type: 'offer', sdp: 'v=0 restart' }, pc: 1 };
    expect(await signal(caller, bCid, offer)).toMatchObject({ type: 'ack', result: { delivered: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // the absence itself
    const again = await connectResume(t, nextNode(t, bWelcome), 'bob', bWelcome.resume, lastSeq);
    expect(await again.welcome).toMatchObject({ cid: bCid, resumed: true });
    expect((await again.waitFor('rtc')).signal).toEqual(offer);
    expect((await signal(again, callerCid, { kind: 'description', description: { type: 'answer', sdp: 'v=0 answer' }, pc: 1 })).type).toBe('ack');
    expect((await caller.waitFor((f) => f.type === 'rtc' && f.signal.description?.type === 'answer')).sender_cid).toBe(bCid);
    await caller.sync();
    expect(caller.all((f) => f.type === 'rtc' && f.signal.kind === 'hangup')).toHaveLength(0);
  });

  it('more missed frames than the buffer holds: not resumed (overflowed), the old cid disconnected', async () => {
    const t = await startServer({ resume: { maxBufferedFrames: 3 } });
    const { a, b, bWelcome, bCid } = await roomOf(t);
    const lastSeq = lastSeqOf(b);
    b.terminate();
    await b.closed;
    for (let i = 0; i < 5; i++) await a.request({ type: 'post', to: 'room', message: i });
    const again = await connectResume(t, nextNode(t, bWelcome), 'bob', bWelcome.resume, lastSeq);
    expect(await again.welcome).toMatchObject({ resumed: false, resumeReason: 'overflowed' });
    await a.waitFor((f) => f.code === 'USER_DISCONNECTED' && f.sender_cid === bCid);
    await again.sync();
    expect(again.all('message')).toHaveLength(0);
  });

  it('a page going away (1001, what a browser sends when a tab closes) is gone at once, like 1000', async () => {
    const t = await startServer();
    const { a, b, bCid } = await roomOf(t);
    b.ws.close(1001);
    await a.waitFor((f) => f.code === 'USER_DISCONNECTED' && f.sender_cid === bCid, 2_000);
  });

  it('a normal close (1000) is gone at once; resume off: no token, no seq', async () => {
    const t = await startServer();
    const { a, b, bCid } = await roomOf(t);
    await b.close();
    await a.waitFor((f) => f.code === 'USER_DISCONNECTED' && f.sender_cid === bCid);

    const off = await startServer({ resume: { windowMs: 0 } });
    const c = await off.connect('carol');
    expect((await c.welcome).resume).toBeUndefined();
    const reply = await join(c, 'room');
    expect(reply.seq).toBeUndefined();
  });
});
