/**
 * Calls between two Node peers (the Node entry: ws + node-datachannel) through the real
 * server on 127.0.0.1, host candidates bound to 127.0.0.1. The same call state machine as in
 * the browser: ringing → connected → ended, hang-ups both ways, glare, media refused in Node.
 */
import { describe, expect, it } from 'vitest';
import { SwitchboardError } from '@switchboard/protocol';
import { livePeerConnections } from '../src/node/index.js';
import { connectPair, median, NodePeer, nextMessage, openChannel, RtcLog } from './node-harness.js';
import { useNodePairs } from './node-pairs.js';
import { until } from './server.js';

const pair = useNodePairs('node-calls', async (server, side, n) => {
  const [user, name] = side === 'a' ? [`alice-${n}`, 'Alice'] : [`bob-${n}`, 'Bob'];
  return new NodePeer({ url: server.url, token: await server.token(user, name) });
});

describe('Node ↔ Node calls', () => {
  it('connects caller and callee, messages both ways (text and binary), hang-up ends both once', async () => {
    const [a, b] = await pair();
    const { caller, callee, aLog, bLog, setupMs } = await connectPair(a, b);
    expect(caller.call).toBe(callee.call);
    const aChannel = caller.channels.default!;
    const bChannel = callee.channels.default!;
    expect(aChannel.ordered).toBe(true);

    aChannel.send('hello from node a');
    expect(await nextMessage(bLog, 'default')).toBe('hello from node a');
    bChannel.send(new Uint8Array([1, 2, 3, 250]));
    const binary = await nextMessage(aLog, 'default', (d) => d instanceof ArrayBuffer);
    expect([...new Uint8Array(binary as ArrayBuffer)]).toEqual([1, 2, 3, 250]);

    // The same events as in a browser: connection states, candidates without libdatachannel's "a=" prefix, end-of-candidates.
    await aLog.waitFor((e) => e.type === 'connectionstatechange' && e.state === 'connected');
    const candidates = aLog.events.filter((e) => e.type === 'icecandidate');
    expect(candidates.length).toBeGreaterThan(0);
    for (const c of candidates) expect(String(c.candidate)).toMatch(/^candidate:/);
    expect(aLog.types()).toContain('icecandidateend');
    expect(bLog.events.some((e) => e.type === 'open' && e.label === 'default')).toBe(true);

    const aFrom = a.rt.mark();
    const bFrom = b.rt.mark();
    callee.hangup();
    const closedA = await a.rt.waitFor((e) => e.type === 'rtc:closed', aFrom);
    const closedB = await b.rt.waitFor((e) => e.type === 'rtc:closed', bFrom);
    expect((closedA as { message: unknown }).message).toMatchObject({ hungup: b.user_id, reason: 'hangup', call: caller.call });
    expect((closedB as { message: unknown }).message).toMatchObject({ hungup: b.user_id, reason: 'hangup', call: caller.call });
    await aLog.waitFor((e) => e.type === 'connectionstatechange' && e.state === 'closed');
    await until(() => livePeerConnections() === 0, 5_000, 'peer connections closed');
    expect(a.rt.count((e) => e.type === 'rtc:closed', aFrom)).toBe(1);
    expect(b.rt.count((e) => e.type === 'rtc:closed', bFrom)).toBe(1);
    console.info(`[node-calls] Node→Node connectRTC → channels open: ${Math.round(setupMs)} ms`);
  });

  it('both directions as caller, presets and custom channels, a channel added mid-call', async () => {
    const [a, b] = await pair();
    const setup: number[] = [];
    for (const [caller, callee] of [
      [a, b],
      [b, a],
      [a, b],
    ] as const) {
      const call = await connectPair(caller, callee, {
        caller: { channels: ['text-chat', { label: 'bulk', ordered: true }] },
        label: 'bulk',
      });
      setup.push(call.setupMs);
      await openChannel(call.callee, call.bLog, 'text-chat'); // channels open one by one
      expect(Object.keys(call.callee.channels).sort()).toEqual(['bulk', 'text-chat']);
      call.callee.channels['text-chat']!.send(`pong from ${callee.user_id}`);
      expect(await nextMessage(call.aLog, 'text-chat')).toBe(`pong from ${callee.user_id}`);

      const late = call.caller.target.createDataChannel('late', { ordered: true });
      await call.bLog.waitFor((e) => e.type === 'open' && e.label === 'late');
      await new Promise<void>((resolve) => (late.readyState === 'open' ? resolve() : late.addEventListener('open', () => resolve(), { once: true })));
      late.send('added mid-call');
      expect(await nextMessage(call.bLog, 'late')).toBe('added mid-call');

      const from = callee.rt.mark();
      call.caller.hangup();
      await callee.rt.waitFor((e) => e.type === 'rtc:closed', from);
      await until(() => livePeerConnections() === 0, 5_000, 'peer connections closed');
    }
    console.info(`[node-calls] setup ms (3 calls, both directions): ${setup.map(Math.round).join(', ')}; median ${Math.round(median(setup))}`);
  });

  it('media in Node fails at once with NOT_SUPPORTED, saying data channels work; the call may then be accepted without media', async () => {
    const [a, b] = await pair();
    const error = await a.sb.connectRTC({ cid: b.cid, media: { video: true } }, () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SwitchboardError);
    expect(error).toMatchObject({ code: 'NOT_SUPPORTED' });
    expect((error as Error).message).toMatch(/data channels work/);
    // A MediaStream (here a stand-in: Node has none) is refused the same way, before anything is sent.
    const stream = { getTracks: () => [{ kind: 'audio', stop: () => undefined }] } as unknown as MediaStream;
    await expect(a.sb.connectRTC({ cid: b.cid, media: stream }, () => undefined)).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
    expect(b.rt.count((e) => e.type === 'rtc:incoming')).toBe(0); // nothing was sent

    const from = b.rt.mark();
    const log = new RtcLog();
    const connector = await a.sb.connectRTC({ cid: b.cid }, log.cb);
    const incoming = await b.incoming(from);
    const refused = await incoming.connectRTC({ media: { audio: true } }, () => undefined).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'NOT_SUPPORTED' });
    const bLog = new RtcLog();
    const callee = await incoming.connectRTC({}, bLog.cb);
    expect(callee).not.toBeNull();
    const caller = await connector.connection;
    await openChannel(caller, log);
    expect(callee!.media).toBeNull();
    caller.hangup();
  });

  it('glare: both call each other at once and end up in one call', async () => {
    const [a, b] = await pair();
    const aLog = new RtcLog();
    const bLog = new RtcLog();
    const [ca, cb] = await Promise.all([a.sb.connectRTC({ cid: b.cid }, aLog.cb), b.sb.connectRTC({ cid: a.cid }, bLog.cb)]);
    const [ra, rb] = await Promise.all([ca.connection, cb.connection]);
    expect(ra.call).toBe(rb.call);
    await Promise.all([openChannel(ra, aLog), openChannel(rb, bLog)]);
    ra.channels.default!.send('one call');
    expect(await nextMessage(bLog, 'default')).toBe('one call');
    expect(a.rt.count((e) => e.type === 'rtc:incoming') + b.rt.count((e) => e.type === 'rtc:incoming')).toBe(0);
    ra.hangup();
    await b.rt.waitFor((e) => e.type === 'rtc:closed');
  });

  it('closeRealtime hangs up the call before closing', async () => {
    const [a, b] = await pair();
    await connectPair(a, b);
    const from = b.rt.mark();
    await a.sb.closeRealtime();
    const closed = await b.rt.waitFor((e) => e.type === 'rtc:closed', from);
    expect((closed as { message: unknown }).message).toMatchObject({ reason: 'hangup', hungup: a.user_id });
    await until(() => livePeerConnections() === 0, 5_000, 'peer connections closed');
  });
});
