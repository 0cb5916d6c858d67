/**
 * Call behaviour Skapi pages rely on, Node peers through the real server: the guide's
 * `await call.connection` inside an async callback (no unhandled rejection), `closed` for a
 * call that ends before pickup, data channel `close` once per channel on both sides and
 * `connectionstatechange` `closed` once, `hangup({ reason: 'busy' })`, and the server's
 * TOO_MANY_CALLS as a clear failure on both sides.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { livePeerConnections } from '../src/node/index.js';
import type { RealtimeEvent, RtcIncomingEvent } from '../src/types.js';
import { connectPair, NodePeer, openChannel, RtcLog } from './node-harness.js';
import { useNodePairs } from './node-pairs.js';
import { startServer, until, type TestServer } from './server.js';

const pair = useNodePairs('skapi-calls', async (server, side, n) => new NodePeer({ url: server.url, token: await server.token(`${side}-${n}`) }));

/** Unhandled rejections seen while a test runs (Node's default would crash the process on one). */
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));

/** Lets pending rejections be reported: Node reports them once the microtask queue drained. */
const settle = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
const closedStates = (log: RtcLog) => log.events.filter((e) => e.type === 'connectionstatechange' && e.state === 'closed');

describe("Skapi pages' call behaviour (Node SDK, real server)", () => {
  it("the guide's `await call.connection` in an async callback: a declined call rejects it, nothing unhandled; the caller sees `closed` once", async () => {
    const [a, b] = await pair();
    const log = new RtcLog();
    const outcome: { error?: unknown; resolved?: unknown } = {};
    const from = b.rt.mark();
    // The guide's RealtimeCallback: it awaits the call inside the callback, with no catch, so
    // its own promise rejects when the call is declined, and nobody handles that promise.
    const guideCallback = async (peer: RealtimeEvent): Promise<void> => {
      a.rt.cb(peer);
      if (peer.type !== 'notice' || peer.code !== 'USER_JOINED' || peer.sender_cid === a.cid) return;
      const call = await a.sb.connectRTC({ cid: peer.sender_cid! }, log.cb);
      call.connection.catch((error: unknown) => (outcome.error = error)); // only to observe it
      outcome.resolved = await call.connection;
    };
    // The latest callback wins: a's is now the guide's.
    await a.sb.connectRealtime(guideCallback as (event: RealtimeEvent) => void);
    await a.sb.joinRealtime({ group: 'guide-room' });
    await b.sb.joinRealtime({ group: 'guide-room' }); // a sees USER_JOINED and calls b
    const incoming = await b.incoming(from);
    incoming.hangup();
    await a.rt.waitFor((e) => e.type === 'rtc:closed', 0, 10_000, 'rtc:closed');
    await log.waitFor((e) => e.type === 'connectionstatechange' && e.state === 'closed', 5_000, 'closed before pickup');
    await until(() => outcome.error !== undefined, 5_000, 'the connection rejected');
    await settle();
    expect(outcome.error).toMatchObject({ code: 'RTC_REJECTED' });
    expect(outcome.resolved).toBeUndefined();
    expect(unhandled).toEqual([]);
    expect(closedStates(log)).toHaveLength(1);
  });

  it("cancelled and unanswered calls: the caller's RTC callback gets `closed` once; hangup({ reason: 'busy' }) gives RTC_BUSY", async () => {
    const [a, b] = await pair();
    // Cancelled by the caller while ringing.
    let log = new RtcLog();
    let from = b.rt.mark();
    let call = await a.sb.connectRTC({ cid: b.cid }, log.cb);
    await b.incoming(from);
    call.hangup();
    await expect(call.connection).rejects.toMatchObject({ code: 'RTC_CANCELLED' });
    await log.waitFor((e) => e.type === 'connectionstatechange' && e.state === 'closed');
    expect(log.events.map((e) => e.type)).toEqual(['connectionstatechange']);
    expect(log.events[0]).toMatchObject({ state: 'closed', iceState: 'closed', signalingState: 'closed', connectionState: 'closed', target: null });

    // Declined as busy, with the object form.
    for (const reason of [{ reason: 'busy' as const }, 'busy' as const]) {
      log = new RtcLog();
      from = b.rt.mark();
      call = await a.sb.connectRTC({ cid: b.cid }, log.cb);
      (await b.incoming(from)).hangup(reason);
      await expect(call.connection).rejects.toMatchObject({ code: 'RTC_BUSY' });
      await log.waitFor((e) => e.type === 'connectionstatechange' && e.state === 'closed');
      await settle();
      expect(closedStates(log)).toHaveLength(1);
    }
    expect(a.rt.of('rtc:closed').map((e) => e.message.reason)).toEqual(['cancelled', 'busy', 'busy']);
    expect(unhandled).toEqual([]);
  });

  it('hang-up: every data channel reports `close` once on both sides, `connectionstatechange` `closed` once', async () => {
    const [a, b] = await pair();
    const { caller, callee, aLog, bLog } = await connectPair(a, b, {
      caller: {
        channels: [
          { label: 'default', ordered: true },
          { label: 'chat', ordered: true },
        ],
      },
      label: 'default',
    });
    await Promise.all([openChannel(caller, aLog, 'chat'), openChannel(callee, bLog, 'chat')]);
    const [aFrom, bFrom] = [a.rt.mark(), b.rt.mark()];
    caller.hangup();
    await a.rt.waitFor((e) => e.type === 'rtc:closed', aFrom);
    await b.rt.waitFor((e) => e.type === 'rtc:closed', bFrom);
    for (const log of [aLog, bLog]) await log.waitFor((e) => e.type === 'connectionstatechange' && e.state === 'closed');
    await until(() => livePeerConnections() === 0, 5_000, 'peer connections closed');
    await settle();
    for (const [log, side] of [
      [aLog, 'caller'],
      [bLog, 'callee'],
    ] as const) {
      const closes = log.events
        .filter((e) => e.type === 'close')
        .map((e) => e.label)
        .sort();
      expect({ side, closes }).toEqual({ side, closes: ['chat', 'default'] });
      expect({ side, closed: closedStates(log).length }).toEqual({ side, closed: 1 });
      // The channel closes come before the call's `closed`, and nothing after it.
      expect(log.events.at(-1)).toMatchObject({ type: 'connectionstatechange', state: 'closed' });
    }
    expect(caller.channels).toEqual({});
    expect(callee.channels).toEqual({});
  });
});

describe('TOO_MANY_CALLS (one active call per connection)', () => {
  let server: TestServer;
  const peers: NodePeer[] = [];
  beforeAll(async () => {
    server = await startServer({ limits: { maxActiveCalls: 1 } });
  });
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
    await until(() => livePeerConnections() === 0, 5_000, 'every peer connection closed');
  });
  afterAll(() => server.close());

  const peer = async (name: string): Promise<NodePeer> => {
    const p = new NodePeer({ url: server.url, token: await server.token(name) });
    peers.push(p);
    return p.connect('tmc');
  };

  it('a refused invite rejects the caller; a refused accept ends the callee and gives the ringing caller RTC_BUSY', async () => {
    const [a, b, c] = [await peer('tmc-a'), await peer('tmc-b'), await peer('tmc-c')];
    await connectPair(a, b); // a and b each hold their one active call

    // Invite refused: a is at its cap.
    const aLog = new RtcLog();
    const aFrom = a.rt.mark();
    const refused = await a.sb.connectRTC({ cid: c.cid }, aLog.cb);
    const error = await refused.connection.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TOO_MANY_CALLS' });
    expect((error as Error).message).toMatch(/^The call could not start: Too many active calls/);
    const aClosed = await a.rt.waitFor((e) => e.type === 'rtc:closed', aFrom);
    expect(aClosed).toMatchObject({ message: { reason: 'error', error: { code: 'TOO_MANY_CALLS' } } });
    await aLog.waitFor((e) => e.type === 'connectionstatechange' && e.state === 'closed');

    // Accept refused: c rings b, who is at its cap.
    const cLog = new RtcLog();
    const bLog = new RtcLog();
    const bFrom = b.rt.mark();
    const ringing = await c.sb.connectRTC({ cid: b.cid }, cLog.cb);
    const incoming: RtcIncomingEvent = await b.incoming(bFrom);
    expect(await incoming.connectRTC({}, bLog.cb)).not.toBeNull();
    const bClosed = await b.rt.waitFor((e) => e.type === 'rtc:closed' && e.message.call === incoming.call, bFrom);
    expect(bClosed).toMatchObject({ message: { reason: 'error', error: { code: 'TOO_MANY_CALLS' } } });
    await bLog.waitFor((e) => e.type === 'connectionstatechange' && e.state === 'closed');
    await expect(ringing.connection).rejects.toMatchObject({ code: 'RTC_BUSY' });
    await cLog.waitFor((e) => e.type === 'connectionstatechange' && e.state === 'closed');
    await settle();
    expect(unhandled).toEqual([]);
  });
});
