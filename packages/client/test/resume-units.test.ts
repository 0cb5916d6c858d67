/**
 * The client half of session resume (docs/protocol.md §12) against fake sockets: the test plays
 * the server, so every ordering (replay before or after the re-send, duplicates, gaps) is exact.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SwitchboardError } from '@switchboard/protocol';
import { switchboardInternals } from '../src/switchboard.js';
import type { ReconnectedEvent } from '../src/types.js';
import { closeFakeClients, FakeSocket, fakeClient, settle } from './fake-socket.js';

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await closeFakeClients();
});

const messages = (events: { events: { type: string; message?: unknown }[] }) => events.events.filter((e) => e.type === 'message').map((e) => e.message);
const outcome = (events: { events: { type: string }[] }) => events.events.filter((e): e is ReconnectedEvent => e.type === 'reconnect' && 'resumed' in e);

describe('sequence numbers', () => {
  it('a frame seen already is dropped; frames without seq pass', async () => {
    const { events, socket } = await fakeClient();
    socket.message(1, 'a');
    socket.message(2, 'b');
    socket.message(2, 'b again');
    socket.message(1, 'a again');
    socket.message(3, 'c');
    expect(messages(events)).toEqual(['a', 'b', 'c']);
  });

  it('a gap drops the socket and resumes from the last frame processed; the missing frame is not delivered out of order', async () => {
    const { events, socket } = await fakeClient();
    socket.message(1, 'a');
    socket.message(3, 'c'); // 2 went missing
    expect(socket.closedWith).toBe(1006);
    expect(messages(events)).toEqual(['a']);
    const next = await FakeSocket.nth(1);
    expect(next.params.get('resume')).toBe('token-1');
    expect(next.params.get('lastSeq')).toBe('1');
    next.welcome('cid:one', { resume: 'token-2', resumed: true, replayTo: 3 });
    next.message(2, 'b');
    next.message(3, 'c');
    expect(messages(events)).toEqual(['a', 'b', 'c']);
  });

  it('without a resume token a gap is taken as it is (nothing could replay it)', async () => {
    const { events, socket } = await fakeClient({ token: null });
    socket.message(1, 'a');
    socket.message(5, 'e');
    expect(socket.closedWith).toBeNull();
    expect(messages(events)).toEqual(['a', 'e']);
  });
});

describe('resumed', () => {
  it('keeps the request in flight, replays, re-sends it with its id after replayTo, then the queued ones, in order', async () => {
    const { sb, events, socket } = await fakeClient();
    const join = sb.joinRealtime({ group: 'room' });
    socket.ack(1, 1, { group: 'room' });
    await join;
    const answered = sb.postRealtime('answered in the replay', 'room'); // id 2
    const unanswered = sb.postRealtime('never answered', 'room'); // id 3
    socket.message(2, 'before the drop');
    socket.drop(1006);
    expect(sb.connectionState).toBe('reconnecting');
    const queued = sb.postRealtime('queued while away', 'room'); // id 4
    const next = await FakeSocket.nth(1);
    expect(next.url).toBe('ws://fake.test/v1/realtime?resume=token-1&lastSeq=2');
    next.welcome('cid:one', { resume: 'token-2', resumed: true, replayTo: 4 });
    expect(next.requests()).toEqual([]); // nothing goes out during the replay
    next.message(3, 'while away');
    next.ack(4, 2);
    await settle();
    expect(next.requests().map((frame) => frame.id)).toEqual([3, 4]); // no join: no re-sync
    expect(next.requests()[0]).toMatchObject({ type: 'post', message: 'never answered' });
    next.ack(5, 3);
    next.ack(6, 4);
    expect(await answered).toMatchObject({ type: 'success' });
    expect(await unanswered).toMatchObject({ type: 'success' });
    expect(await queued).toMatchObject({ type: 'success' });
    expect(messages(events)).toEqual(['before the drop', 'while away']);
    expect(outcome(events)).toEqual([
      { type: 'reconnect', message: 'Resumed the WebSocket connection.', resumed: true, cid: 'cid:one', previousCid: 'cid:one' },
    ]);
    // Skapi's sequence around it: unexpected close, attempt, outcome, success.
    const types = events.events.map((e) => e.type);
    expect(types.slice(types.indexOf('error'))).toEqual(['error', 'reconnect', 'reconnect', 'success', 'message']);
    expect(sb.cid).toBe('cid:one');
    expect(sb.connectionState).toBe('open');
    // The new token is the one for the next drop.
    next.drop(1006);
    const third = await FakeSocket.nth(2);
    expect(third.params.get('resume')).toBe('token-2');
    expect(third.params.get('lastSeq')).toBe('6');
  });

  it('replayTo equal to lastSeq: the re-send goes out at once', async () => {
    const { sb, socket } = await fakeClient();
    const post = sb.postRealtime('x', 'cid:peer');
    socket.message(1, 'm');
    socket.drop(4000);
    const next = await FakeSocket.nth(1);
    next.welcome('cid:one', { resume: 'token-2', resumed: true, replayTo: 1 });
    expect(next.requests()).toEqual([expect.objectContaining({ type: 'post', id: 1, message: 'x' })]);
    next.ack(2, 1);
    await expect(post).resolves.toMatchObject({ type: 'success' });
  });

  it('a replay that never reaches replayTo drops the socket and resumes again', async () => {
    const { socket } = await fakeClient({ requestTimeoutMs: 100 });
    socket.drop(1006);
    const next = await FakeSocket.nth(1);
    next.welcome('cid:one', { resume: 'token-2', resumed: true, replayTo: 3 });
    next.message(1, 'only one');
    const third = await FakeSocket.nth(2);
    expect(next.closedWith).toBe(1006);
    expect(third.params.get('resume')).toBe('token-2');
    expect(third.params.get('lastSeq')).toBe('1');
  });

  it('calls hear `away`, then `open`: nothing ends them', async () => {
    const { sb, socket } = await fakeClient();
    const seen: string[] = [];
    vi.spyOn(switchboardInternals(sb).calls, 'handleRealtimeState').mockImplementation((state) => void seen.push(state));
    socket.drop(1006);
    const next = await FakeSocket.nth(1);
    next.welcome('cid:one', { resume: 'token-2', resumed: true, replayTo: 0 });
    expect(seen).toEqual(['away', 'open']);
  });
});

describe('not resumed', () => {
  it('fails the requests in flight, re-joins, starts counting again; an unknown reason is passed on', async () => {
    const { sb, events, socket } = await fakeClient();
    const join = sb.joinRealtime({ group: 'room' });
    socket.ack(1, 1, { group: 'room' });
    await join;
    const inFlight = sb.postRealtime('lost', 'room').catch((error: SwitchboardError) => error.code);
    socket.message(2, 'm');
    const seen: string[] = [];
    vi.spyOn(switchboardInternals(sb).calls, 'handleRealtimeState').mockImplementation((state) => void seen.push(state));
    socket.drop(1006);
    const queued = sb.postRealtime('queued', 'room');
    const next = await FakeSocket.nth(1);
    next.welcome('cid:two', { resume: 'token-b', resumed: false, resumeReason: 'brand_new_reason' });
    expect(await inFlight).toBe('CONNECTION_CLOSED');
    expect(next.requests()).toEqual([expect.objectContaining({ type: 'join', group: 'room' })]);
    next.ack(1, next.requests()[0]!.id as number, { group: 'room' });
    await settle();
    expect(next.requests().map((frame) => frame.type)).toEqual(['join', 'post']);
    next.ack(2, next.requests()[1]!.id as number);
    await expect(queued).resolves.toMatchObject({ type: 'success' });
    next.message(3, 'numbering restarted at 1');
    expect(messages(events)).toEqual(['m', 'numbering restarted at 1']);
    expect(outcome(events)).toEqual([
      {
        type: 'reconnect',
        message: 'Reconnected with a new connection (not resumed: brand_new_reason).',
        resumed: false,
        reason: 'brand_new_reason',
        cid: 'cid:two',
        previousCid: 'cid:one',
      },
    ]);
    expect(seen).toEqual(['away', 'closed', 'open']);
    expect(sb.cid).toBe('cid:two');
  });

  it('a server closing with 1000 is not resumed: plain URL, requests in flight fail at once', async () => {
    const { sb, socket } = await fakeClient();
    const inFlight = sb.postRealtime('x', 'cid:peer').catch((error: SwitchboardError) => error.code);
    socket.drop(1000);
    expect(await inFlight).toBe('CONNECTION_CLOSED');
    const next = await FakeSocket.nth(1);
    expect(next.params.has('resume')).toBe(false);
  });

  it('a server without resume: as before, with a `reconnect` outcome that has no reason', async () => {
    const { sb, events, socket } = await fakeClient({ token: null });
    const inFlight = sb.postRealtime('x', 'cid:peer').catch((error: SwitchboardError) => error.code);
    const seen: string[] = [];
    vi.spyOn(switchboardInternals(sb).calls, 'handleRealtimeState').mockImplementation((state) => void seen.push(state));
    socket.drop(1006);
    expect(await inFlight).toBe('CONNECTION_CLOSED');
    const next = await FakeSocket.nth(1);
    expect(next.url).toBe('ws://fake.test/v1/realtime');
    next.welcome('cid:two');
    await settle();
    expect(outcome(events)).toEqual([
      { type: 'reconnect', message: 'Reconnected with a new connection.', resumed: false, cid: 'cid:two', previousCid: 'cid:one' },
    ]);
    expect(seen).toEqual(['closed', 'open']);
  });
});

describe('page lifecycle', () => {
  it('pagehide into the back/forward cache drops the socket as a blip; pageshow resumes at once', async () => {
    const { sb, socket } = await fakeClient();
    const { watchPage } = await import('../src/platform/page-lifecycle.js');
    const page = new EventTarget() as EventTarget & { document?: EventTarget & { visibilityState: string } };
    page.document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
    const session = switchboardInternals(sb).session;
    const unwatch = watchPage(session, page as never);
    const post = sb.postRealtime('in flight', 'cid:peer');
    socket.message(1, 'm');
    Object.assign(socket, { terminate: undefined }); // a browser's WebSocket: close(code) is how it drops
    page.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: true }));
    expect(socket.closedWith).toBe(4005); // not 1000: the server keeps the connection
    await settle();
    await settle();
    expect(FakeSocket.all).toHaveLength(1); // no attempt while in the cache
    expect(sb.connectionState).toBe('reconnecting');
    page.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
    const next = await FakeSocket.nth(1);
    expect(next.params.get('lastSeq')).toBe('1');
    next.welcome('cid:one', { resume: 'token-2', resumed: true, replayTo: 1 });
    next.ack(2, 1);
    await expect(post).resolves.toMatchObject({ type: 'success' });
    unwatch();
  });

  it('online / visible skip the backoff delay; a real unload closes with 1000', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    FakeSocket.reset();
    const { Switchboard, switchboardInternals: internalsOf } = await import('../src/switchboard.js');
    const { fakePlatform } = await import('./fake-socket.js');
    const { watchPage } = await import('../src/platform/page-lifecycle.js');
    vi.spyOn(Math, 'random').mockReturnValue(0.99); // a long backoff (the policy reads it when created)
    const sb = new Switchboard({ url: 'http://fake.test', token: 'jwt', reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000 } }, fakePlatform());
    const connected = sb.connectRealtime(() => undefined);
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.all[0]!.welcome('cid:one', { resume: 't' });
    await connected;
    const page = new EventTarget() as EventTarget & { document?: EventTarget & { visibilityState: string } };
    page.document = Object.assign(new EventTarget(), { visibilityState: 'hidden' });
    const session = internalsOf(sb).session;
    watchPage(session, page as never);
    FakeSocket.all[0]!.drop(1006);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeSocket.all).toHaveLength(1);
    page.document.visibilityState = 'visible';
    page.document.dispatchEvent(new Event('visibilitychange'));
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1]!.drop(1006); // fails before its welcome: back to the backoff
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeSocket.all).toHaveLength(2);
    page.dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all).toHaveLength(3);
    FakeSocket.all[2]!.welcome('cid:one', { resume: 't2', resumed: true, replayTo: 0 });
    await vi.advanceTimersByTimeAsync(0);
    page.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: false }));
    expect(FakeSocket.all[2]!.closedWith).toBe(1000);
    expect(sb.connectionState).toBe('closed');
  });

  it('outside browsers it listens to nothing', async () => {
    const { watchPage } = await import('../src/platform/page-lifecycle.js');
    const session = { suspend: vi.fn(), wake: vi.fn(), close: vi.fn() };
    expect(() => watchPage(session, {})()).not.toThrow();
  });
});
