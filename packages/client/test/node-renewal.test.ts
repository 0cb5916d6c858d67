/**
 * Renewal between two Node peers (real node-datachannel, real server on 127.0.0.1): the
 * ICE restart of stacks that cannot restart ICE in place replaces the peer connection
 * inside the call. The path loss that triggers it in production is covered in
 * e2e/node-ice.test.ts (netns + tc); here the restart policy's request is made by hand so
 * that what a renewal keeps can be checked in detail: the call, the `channels` record
 * object, every label this call had open (preset, mid-call, negotiated) with its options,
 * and not the channels the app closed.
 */
import { describe, expect, it } from 'vitest';
import type { RTCResolved } from '../src/index.js';
import { livePeerConnections } from '../src/node/index.js';
import { switchboardInternals } from '../src/switchboard.js';
import { connectPair, NodePeer, nextMessage, type RtcLog } from './node-harness.js';
import { useNodePairs } from './node-pairs.js';
import { until } from './server.js';

const pair = useNodePairs('node-renewal', async (server, side, n) => new NodePeer({ url: server.url, name: `${side}${n}` }));

/** What the restart policy does when the path is down and a stack cannot restart ICE (internals, on purpose). */
function requestRenewal(peer: NodePeer, call: string): void {
  const manager = switchboardInternals(peer.sb).calls as unknown as {
    calls: Map<string, { session: { emit(type: 'renew', value: { restarts: number }): void } }>;
  };
  manager.calls.get(call)!.session.emit('renew', { restarts: 1 });
}

async function opened(resolved: RTCResolved, label: string, old: RTCDataChannel | undefined): Promise<RTCDataChannel> {
  await until(
    () => resolved.channels[label] !== undefined && resolved.channels[label] !== old && resolved.channels[label]!.readyState === 'open',
    10_000,
    `${label} reopened`,
  );
  return resolved.channels[label]!;
}

async function roundTrip(from: RTCResolved, toLog: RtcLog, label: string, text: string): Promise<void> {
  const waiting = nextMessage(toLog, label, (d) => d === text);
  from.channels[label]!.send(text);
  expect(await waiting).toBe(text);
}

/** Both sides start the same renewal at once (each saw the path die): internals, on purpose. */
function renewBothAtOnce(peers: NodePeer[], call: string): void {
  type Internals = { calls: Map<string, { connection: { renew(generation: number, initiator: boolean, restarts: number): void } }> };
  for (const peer of peers) (switchboardInternals(peer.sb).calls as unknown as Internals).calls.get(call)!.connection.renew(1, true, 1);
}

describe('renewal (Node ↔ Node)', () => {
  it('both sides renewing at the same moment still end up in one working peer connection each', async () => {
    const [a, b] = await pair();
    const { caller, callee, aLog, bLog } = await connectPair(a, b);
    const before = { caller: caller.target, callee: callee.target, channel: caller.channels.default, calleeChannel: callee.channels.default };
    const started = performance.now();
    renewBothAtOnce([a, b], caller.call);
    await opened(caller, 'default', before.channel);
    await opened(callee, 'default', before.calleeChannel);
    console.info(`[node-renewal] both at once: reopened ${(performance.now() - started).toFixed(0)} ms after the requests`);
    expect(caller.target).not.toBe(before.caller);
    expect(callee.target).not.toBe(before.callee);
    await roundTrip(caller, bLog, 'default', 'after a double renewal a→b');
    await roundTrip(callee, aLog, 'default', 'after a double renewal b→a');
    await until(() => livePeerConnections() === 2, 5_000, 'the dropped and the old peer connections closed');
  }, 30_000);

  for (const side of ['caller', 'callee'] as const) {
    it(`requested by the ${side}: same call and channels record, every open label back with its options, closed ones not`, async () => {
      const [a, b] = await pair();
      const { caller, callee, aLog, bLog } = await connectPair(a, b, { caller: { channels: [{ label: 'default' }, 'gaming'] } });
      const call = caller.call;
      // Mid-call channels: one in-band from the callee, one negotiated (both sides), one the app closes again.
      callee.target.createDataChannel('midcall', { ordered: false, maxRetransmits: 2 });
      caller.target.createDataChannel('paired', { negotiated: true, id: 7 });
      callee.target.createDataChannel('paired', { negotiated: true, id: 7 });
      const temporary = caller.target.createDataChannel('temporary');
      await until(
        () =>
          ['midcall', 'paired', 'gaming'].every((l) => caller.channels[l]?.readyState === 'open' && callee.channels[l]?.readyState === 'open') &&
          callee.channels.temporary?.readyState === 'open',
        10_000,
        'mid-call channels open',
      );
      temporary.close();
      await until(() => caller.channels.temporary === undefined && callee.channels.temporary === undefined, 5_000, 'temporary closed on both sides');

      const before = {
        target: caller.target,
        calleeTarget: callee.target,
        record: caller.channels,
        channels: { ...caller.channels },
        calleeChannels: { ...callee.channels },
      };
      const [aFrom, bFrom] = [a.rt.mark(), b.rt.mark()];
      const [aEvents, bEvents] = [aLog.events.length, bLog.events.length];
      const started = performance.now();
      requestRenewal(side === 'caller' ? a : b, call);

      for (const label of ['default', 'gaming', 'midcall', 'paired']) {
        await opened(caller, label, before.channels[label]);
        await opened(callee, label, before.calleeChannels[label]);
      }
      const renewMs = performance.now() - started;
      console.info(`[node-renewal] requested by the ${side}: every channel reopened ${renewMs.toFixed(0)} ms after the request`);
      expect(caller.target).not.toBe(before.target);
      expect(callee.target).not.toBe(before.calleeTarget);
      expect(caller.target.connectionState).toBe('connected');
      expect(caller.channels).toBe(before.record);
      expect(Object.keys(caller.channels).sort()).toEqual(['default', 'gaming', 'midcall', 'paired']);
      expect(Object.keys(callee.channels).sort()).toEqual(['default', 'gaming', 'midcall', 'paired']);
      expect(caller.channels.gaming).toMatchObject({ ordered: false, maxPacketLifeTime: 100, protocol: 'gaming' });
      expect(callee.channels.midcall).toMatchObject({ ordered: false, maxRetransmits: 2 });
      expect(caller.channels.paired).toMatchObject({ negotiated: true, id: 7 });
      for (const label of ['default', 'gaming', 'midcall', 'paired']) {
        await roundTrip(caller, bLog, label, `a→b on ${label}`);
        await roundTrip(callee, aLog, label, `b→a on ${label}`);
      }
      // The app saw the new channels open, and no end: no closed state, no rtc:closed, no second rtc:incoming.
      expect(
        aLog.events
          .slice(aEvents)
          .filter((e) => e.type === 'open')
          .map((e) => e.label)
          .sort(),
      ).toEqual(['default', 'gaming', 'midcall', 'paired']);
      expect([...aLog.events.slice(aEvents), ...bLog.events.slice(bEvents)].filter((e) => e.type === 'connectionstatechange' && e.state === 'closed')).toEqual(
        [],
      );
      expect([...a.rt.events.slice(aFrom), ...b.rt.events.slice(bFrom)].filter((e) => e.type === 'rtc:closed' || e.type === 'rtc:incoming')).toEqual([]);
      expect(livePeerConnections()).toBe(2);

      caller.hangup();
      await b.rt.waitFor((e) => e.type === 'rtc:closed', bFrom, 5_000, 'rtc:closed at the callee');
    }, 40_000);
  }
});
