/**
 * The resume decision as a table, run against any ReplayStore (memory, Redis): each row drives
 * the store through its interface with a test clock and checks the outcome, all or nothing.
 * Limits: window 1 s, 5 frames, 64 KiB, frames older than 2 s dropped.
 */
import { expect, it } from 'vitest';
import { buildFrame } from '../../src/state/delivery.js';
import type { ReplayLimits, ReplayStore } from '../../src/resume/replay-store.js';
import type { ResumeClaims } from '../../src/resume/token.js';

export const TABLE_LIMITS: ReplayLimits = { windowMs: 1_000, maxFrames: 5, maxBytes: 64 * 1024, maxAgeMs: 2_000 };

export interface Harness {
  store: ReplayStore;
  clock: { now: number };
}

const USER = 'alice';
let counter = 0;
const newCid = () => `cid:table-${process.pid}-${++counter}`;
const frame = (n: number, pad = 0) =>
  buildFrame({ type: 'private', message: { n, pad: 'x'.repeat(pad) }, sender: 'bob', sender_cid: 'cid:bob', sender_rid: null });

async function opened(h: Harness, node = 'n1'): Promise<{ cid: string; claims: ResumeClaims }> {
  const cid = newCid();
  const { epoch, generation } = await h.store.open(cid, USER, node);
  return { cid, claims: { userId: USER, cid, epoch, generation } };
}

async function send(h: Harness, cid: string, from: number, to: number, pad = 0): Promise<void> {
  for (let n = from; n <= to; n++) await h.store.append([cid], frame(n, pad));
}

const replayed = (result: Awaited<ReturnType<ReplayStore['claim']>>) => {
  if (!result.resumed) throw new Error(`not resumed: ${result.reason}`);
  return result.replay.map((f) => {
    const body = JSON.parse(f.data.toString('utf8')) as { message: { n: number } };
    expect(body.message.n, 'a frame carries what was appended under its seq').toBe(f.seq);
    return f.seq;
  });
};

export function replayTable(make: () => Promise<Harness>): void {
  it('empty gap: the client had everything, resumes with nothing to replay', async () => {
    const h = await make();
    const { cid, claims } = await opened(h);
    await send(h, cid, 1, 3);
    await h.store.away(cid);
    h.clock.now += 500;
    const result = await h.store.claim(claims, 3, 'n1');
    expect(replayed(result)).toEqual([]);
    expect(result).toMatchObject({ resumed: true, replayTo: 3, generation: 1 });
  });

  it('nothing sent yet: lastSeq 0 resumes', async () => {
    const h = await make();
    const { claims } = await opened(h);
    expect(await h.store.claim(claims, 0, 'n1')).toMatchObject({ resumed: true, replay: [], replayTo: 0 });
  });

  it('gap present: frames in flight at the drop and sent while away are replayed in order, once', async () => {
    const h = await make();
    const { cid, claims } = await opened(h);
    await send(h, cid, 1, 3);
    await h.store.away(cid);
    await send(h, cid, 4, 5);
    h.clock.now += 900;
    const result = await h.store.claim(claims, 1, 'n1');
    expect(replayed(result)).toEqual([2, 3, 4, 5]);
    expect(result).toMatchObject({ replayTo: 5 });
    // Live again: numbering goes on.
    expect((await h.store.append([cid], frame(6)))[0]!.seq).toBe(6);
  });

  it('a half-open socket (never marked away) is taken over', async () => {
    const h = await make();
    const { cid, claims } = await opened(h);
    await send(h, cid, 1, 2);
    expect(replayed(await h.store.claim(claims, 0, 'n1'))).toEqual([1, 2]);
  });

  it('gap partly expired: missed frames older than the age limit make it not resumed', async () => {
    const h = await make();
    const { cid, claims } = await opened(h);
    await send(h, cid, 1, 2);
    h.clock.now += 1_500;
    await send(h, cid, 3, 3);
    await h.store.away(cid);
    h.clock.now += 600; // frames 1–2 are now 2.1 s old; the window (1 s) is still open
    expect(await h.store.claim(claims, 0, 'n1')).toEqual({ resumed: false, reason: 'gap_expired' });
    // A client that had 1–2 misses only frame 3, which is still there.
    expect(replayed(await h.store.claim(claims, 2, 'n1'))).toEqual([3]);
  });

  it('wrong epoch: the store lost its state since the token was made', async () => {
    const h = await make();
    const { claims } = await opened(h);
    expect(await h.store.claim({ ...claims, epoch: 'other' }, 0, 'n1')).toEqual({ resumed: false, reason: 'epoch_changed' });
  });

  it('window passed: not resumed, and the sweeper gets the cid once', async () => {
    const h = await make();
    const { cid, claims } = await opened(h);
    await send(h, cid, 1, 1);
    await h.store.away(cid);
    h.clock.now += 999;
    expect(await h.store.expired()).not.toContain(cid);
    h.clock.now += 2;
    expect(await h.store.claim(claims, 1, 'n1')).toEqual({ resumed: false, reason: 'expired' });
    expect(await h.store.expired()).toContain(cid);
    expect(await h.store.expired()).not.toContain(cid);
  });

  it('buffer overflowed (frames): a resume needing a pushed-out frame fails, one that does not succeeds', async () => {
    const h = await make();
    const { cid, claims } = await opened(h);
    await send(h, cid, 1, 7); // 5 kept: 1 and 2 pushed out
    await h.store.away(cid);
    expect(await h.store.snapshot(cid)).toMatchObject({ topSeq: 7, firstSeq: 3, overflowThrough: 2 });
    expect(await h.store.claim(claims, 1, 'n1')).toEqual({ resumed: false, reason: 'overflowed' });
    expect(replayed(await h.store.claim(claims, 2, 'n1'))).toEqual([3, 4, 5, 6, 7]);
  });

  it('buffer overflowed (bytes)', async () => {
    const h = await make();
    const { cid, claims } = await opened(h);
    await send(h, cid, 1, 3, 30_000); // 3 × ~30 KB > 64 KiB: frame 1 pushed out
    expect(await h.store.claim(claims, 0, 'n1')).toEqual({ resumed: false, reason: 'overflowed' });
    expect(replayed(await h.store.claim(claims, 1, 'n1'))).toEqual([2, 3]);
  });

  it('delivered (a delivery probe confirmed them): the frames leave, their bytes with them; a claim needing them is refused', async () => {
    const h = await make();
    const { cid, claims } = await opened(h);
    await send(h, cid, 1, 4, 15_000); // 4 × ~15 KB
    h.store.received(cid, 3); // not awaited by the connection (Redis: sent with others within 50 ms)
    await expect.poll(() => h.store.snapshot(cid)).toMatchObject({ topSeq: 4, firstSeq: 4, overflowThrough: 0 });
    await send(h, cid, 5, 7, 15_000); // 4..7 stay: 4 frames, ~60 KB, within both limits once 1..3 are gone
    h.store.received(cid, 2); // an older confirmation changes nothing
    await h.store.away(cid);
    expect(await h.store.claim(claims, 2, 'n1')).toEqual({ resumed: false, reason: 'gap_expired' });
    expect(replayed(await h.store.claim(claims, 3, 'n1'))).toEqual([4, 5, 6, 7]);
  });

  it('taken over: an older token of a resumed cid is refused; of two resumes at once exactly one wins', async () => {
    const h = await make();
    const { cid, claims } = await opened(h);
    await send(h, cid, 1, 2);
    const results = await Promise.all([h.store.claim(claims, 2, 'n1'), h.store.claim(claims, 2, 'n1')]);
    expect(results.filter((r) => r.resumed)).toHaveLength(1);
    expect(results.filter((r) => !r.resumed)).toEqual([{ resumed: false, reason: 'taken_over' }]);
    expect(await h.store.claim(claims, 2, 'n1')).toEqual({ resumed: false, reason: 'taken_over' });
    expect(await h.store.claim({ ...claims, generation: 1 }, 2, 'n1')).toMatchObject({ resumed: true, generation: 2 });
  });

  it('invalid lastSeq: beyond what was sent, negative or not a number', async () => {
    const h = await make();
    const { cid, claims } = await opened(h);
    await send(h, cid, 1, 3);
    for (const lastSeq of [4, -1, Number.NaN, 1.5]) {
      expect(await h.store.claim(claims, lastSeq, 'n1')).toEqual({ resumed: false, reason: 'invalid_seq' });
    }
  });

  it('released (or never held): expired; another user: invalid_token', async () => {
    const h = await make();
    const { cid, claims } = await opened(h);
    expect(await h.store.claim({ ...claims, userId: 'mallory' }, 0, 'n1')).toEqual({ resumed: false, reason: 'invalid_token' });
    await h.store.release(cid);
    expect(await h.store.claim(claims, 0, 'n1')).toEqual({ resumed: false, reason: 'expired' });
    expect(await h.store.snapshot(cid)).toBeNull();
  });

  it('seqs are per connection; a cid without a hold gets seq 0', async () => {
    const h = await make();
    const a = await opened(h);
    const b = await opened(h);
    await h.store.append([a.cid], frame(1));
    const appended = await h.store.append([a.cid, b.cid, 'cid:nobody', a.cid], frame(2));
    expect(appended.map(({ cid, seq }) => [cid, seq])).toEqual([
      [a.cid, 2],
      [b.cid, 1],
      ['cid:nobody', 0],
    ]);
  });
}
