/**
 * Receipts (docs/protocol.md §12): the SDK puts the highest seq it processed on the next frame it
 * sends anyway (`rx`), once per new value and per socket, so the server's replay buffer lets those
 * frames go without a delivery probe.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ResumeTracker } from '../src/session/resume.js';
import { closeFakeClients, FakeSocket, fakeClient, settle } from './fake-socket.js';

afterEach(closeFakeClients);

/** A post whose answer the test does not wait for (it is never acked: the fake server does not answer). */
const post = (sb: { postRealtime(message: unknown, to: string): Promise<unknown> }, message: string, to: string): void =>
  void sb.postRealtime(message, to).catch(() => undefined);

describe('receipts on outgoing frames', () => {
  it('the next request carries rx = the last seq processed, and the one after it none until more arrive', async () => {
    const { sb, socket } = await fakeClient();
    socket.message(1, 'a');
    socket.message(2, 'b');
    post(sb, 'first', 'room');
    post(sb, 'second', 'room');
    await settle();
    socket.message(3, 'c');
    post(sb, 'third', 'room');
    await settle();
    expect(socket.requests('post').map((frame) => frame['rx'])).toEqual([2, undefined, 3]);
  });

  it('nothing processed, or no resume token (resume off on the server): no rx', async () => {
    const withToken = await fakeClient();
    post(withToken.sb, 'x', 'room');
    await settle();
    expect(withToken.socket.requests('post')[0]).not.toHaveProperty('rx');
    await closeFakeClients();

    const { sb, socket } = await fakeClient({ token: null });
    socket.message(1, 'a');
    post(sb, 'y', 'room');
    await settle();
    expect(socket.requests('post')[0]).not.toHaveProperty('rx');
  });

  it('a new socket is told again: after a resume the first frame carries the last seq', async () => {
    const { sb, socket } = await fakeClient();
    socket.message(1, 'a');
    post(sb, 'before', 'room');
    await settle();
    socket.drop();
    const next = await FakeSocket.nth(1);
    next.welcome('cid:one', { resume: 'token-2', resumed: true, replayTo: 1 });
    post(sb, 'after', 'room');
    await settle();
    expect(socket.requests('post')[0]).toMatchObject({ rx: 1 });
    expect(next.requests('post')[0]).toMatchObject({ rx: 1 }); // the re-sent 'before' or 'after', whichever goes first
  });
});

describe('ResumeTracker.withReceipt', () => {
  const tracker = (): ResumeTracker => {
    const t = new ResumeTracker();
    t.welcomed({ cid: 'cid:one', resume: 'token' });
    t.check(1);
    t.check(2);
    return t;
  };

  it('splices "rx" in front of the frame, leaving the rest as it was', () => {
    expect(tracker().withReceipt('{"type":"ping","ts":1}', 1024)).toBe('{"rx":2,"type":"ping","ts":1}');
  });

  it('leaves out a frame that the receipt could push past maxFrameBytes (3 bytes per UTF-16 unit, 24 for the receipt)', () => {
    const fits = `{"type":"post","message":"${'x'.repeat(300)}"}`;
    expect(tracker().withReceipt(fits, fits.length * 3 + 24)).toMatch(/^\{"rx":2,/);
    expect(tracker().withReceipt(fits, fits.length * 3 + 23)).toBe(fits);
  });

  it('tells a seq once: after `sent`, the same seq is not told again', () => {
    const t = tracker();
    const frame = t.withReceipt('{"type":"ping"}', 1024);
    t.sent(frame);
    expect(t.withReceipt('{"type":"ping"}', 1024)).toBe('{"type":"ping"}');
    t.check(3);
    expect(t.withReceipt('{"type":"ping"}', 1024)).toBe('{"rx":3,"type":"ping"}');
  });
});
