/** The call state machine (fakes, see calls-fakes.ts): glare, repeated calls, realtime drops and renewals of the peer connection. */
import { describe, expect, it } from 'vitest';
import { FakeClient, FakePC, FakeServer, until } from './calls-fakes.js';
import { pair, recorder, incoming, connectedPair } from './calls-pairs.js';

describe('calls: glare and repeated calls', () => {
  it('two users calling each other at once end up in exactly one call', async () => {
    const { a, b } = pair();
    const [ca, cb] = await Promise.all([a.layer.connectRTC({ cid: b.cid }, () => undefined), b.layer.connectRTC({ cid: a.cid }, () => undefined)]);
    const [ra, rb] = await Promise.all([ca.connection, cb.connection]);
    expect(ra.call).toBe(rb.call);
    expect(cb.call).toBe(ca.call); // the smaller cid's call won; b's connector follows it
    expect(a.of('rtc:incoming')).toHaveLength(0);
    expect(b.of('rtc:incoming')).toHaveLength(0);
    await until(() => Object.keys(rb.channels).includes('default') && (rb.target as unknown as FakePC).connectionState === 'connected');
    await new Promise((r) => setTimeout(r, 20));
    expect(a.of('rtc:closed')).toHaveLength(0);
    expect(b.of('rtc:closed')).toHaveLength(0);
    expect((a.layer as unknown as { active: unknown[] }).active).toHaveLength(1);
    expect((b.layer as unknown as { active: unknown[] }).active).toHaveLength(1);
  });

  for (const slow of ['a', 'b'] as const) {
    it(`an invite that arrives while ${slow === 'a' ? 'the winning' : 'the losing'} side's camera is still opening is glare too`, async () => {
      const server = new FakeServer();
      const a = new FakeClient(server, 'cid:a', 'u-a', slow === 'a' ? { mediaDelayMs: 80 } : {});
      const b = new FakeClient(server, 'cid:b', 'u-b', slow === 'b' ? { mediaDelayMs: 80 } : {});
      const [first, second] = slow === 'a' ? [a, b] : [b, a];
      // The invites cross (each side calls before the other's invite arrived); the slow side's
      // camera is still opening when the other's invite reaches it.
      const pendingSlow = first.layer.connectRTC({ cid: second.cid, media: { video: true, audio: false } }, () => undefined);
      const fast = await second.layer.connectRTC({ cid: first.cid }, () => undefined);
      await new Promise((r) => setTimeout(r, 20)); // its invite has reached the slow side
      const slowConnector = await pendingSlow;
      const [rSlow, rFast] = await Promise.all([slowConnector.connection, fast.connection]);
      expect(rSlow.call).toBe(rFast.call);
      expect(rFast.call).toBe(slow === 'a' ? slowConnector.call : fast.call); // a (smaller cid) wins
      expect(a.of('rtc:incoming')).toHaveLength(0);
      expect(b.of('rtc:incoming')).toHaveLength(0);
      await until(() => (rSlow.target as unknown as FakePC).connectionState === 'connected');
      expect(a.of('rtc:closed')).toHaveLength(0);
      expect(b.of('rtc:closed')).toHaveLength(0);
      expect((a.layer as unknown as { active: unknown[] }).active).toHaveLength(1);
      expect((b.layer as unknown as { active: unknown[] }).active).toHaveLength(1);
    });
  }

  it('calling someone whose call to us is ringing accepts that call', async () => {
    const { a, b } = pair();
    const ca = await a.layer.connectRTC({ cid: b.cid }, () => undefined);
    await incoming(b);
    const cb = await b.layer.connectRTC({ cid: a.cid }, () => undefined);
    expect(cb.call).toBe(ca.call);
    const [ra, rb] = await Promise.all([ca.connection, cb.connection]);
    expect(ra.call).toBe(rb.call);
  });

  it('signals of an old call never reach the next one', async () => {
    const { server, a, b } = pair();
    const first = await a.layer.connectRTC({ cid: b.cid }, () => undefined);
    await incoming(b);
    first.hangup();
    await until(() => b.of('rtc:closed').length === 1);
    const second = await a.layer.connectRTC({ cid: b.cid }, () => undefined);
    const rt = await incoming(b, 1);
    // A stale description for the first call arrives late: ignored.
    server.deliver(b, {
      call: first.call,
      sender: 'user-a',
      sender_cid: a.cid,
      sender_name: null,
      signal: { kind: 'description', description: { type: 'offer', sdp: 'fake stale' } },
    });
    const rb = (await rt.connectRTC({}, () => undefined))!;
    await second.connection;
    await until(() => (rb.target as unknown as FakePC).connectionState === 'connected');
    expect((rb.target as unknown as FakePC).remoteDescription?.sdp).not.toBe('fake stale');
    expect(b.of('rtc:incoming')).toHaveLength(2);
  });

  it('calls between two connections of the same user work', async () => {
    const server = new FakeServer();
    const a = new FakeClient(server, 'cid:one', 'same-user');
    const b = new FakeClient(server, 'cid:two', 'same-user');
    const ca = await a.layer.connectRTC({ cid: b.cid }, () => undefined);
    const rb = await (await incoming(b)).connectRTC({}, () => undefined);
    expect((await ca.connection).call).toBe(rb!.call);
  });
});

describe('calls: realtime drops', () => {
  it('a connected call survives the realtime connection dropping and coming back with a new cid', async () => {
    const { server, a, b, ra, rb } = await connectedPair();
    b.drop();
    // The server tells a that b's connection is gone; a pings b over the control channel and keeps the call.
    server.deliver(a, { call: ra.call, sender: 'user-b', sender_cid: b.cid, sender_name: null, signal: { kind: 'hangup', reason: 'peer_gone' } });
    await new Promise((r) => setTimeout(r, 100));
    expect(a.of('rtc:closed')).toHaveLength(0);
    b.reconnect('cid:bbb2');
    // b announces its new cid over the control channel; a signals there from now on.
    await until(() => (a.layer as unknown as { active: { peer: { cid: string } }[] }).active[0]?.peer.cid === 'cid:bbb2');
    // a now signals b's new cid: hang-up over both paths; b ends once.
    ra.hangup();
    await until(() => b.of('rtc:closed').length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(b.of('rtc:closed')).toHaveLength(1);
    const hangups = server.frames.filter((f) => f.signal.kind === 'hangup');
    expect(hangups.length).toBeGreaterThan(0);
    expect(hangups.every((f) => f.to === 'cid:bbb2')).toBe(true);
    void rb;
  });
});

describe('calls: renewal', () => {
  it('a side that cannot restart ICE replaces the peer connection: same call and channels, media again, current TURN credentials', async () => {
    const server = new FakeServer();
    const a = new FakeClient(server, 'cid:aaa', 'user-a', { canRestartIce: false });
    const b = new FakeClient(server, 'cid:bbb', 'user-b');
    a.turn = [{ urls: 'turn:127.0.0.1:3478', username: '100:user-a', credential: 'old' }];
    const ca = recorder();
    const connector = await a.layer.connectRTC({ cid: b.cid, media: { audio: true, video: false } }, ca.cb);
    const rb = (await (await incoming(b)).connectRTC({}, () => undefined))!;
    const ra = await connector.connection;
    await until(() => ra.channels.default?.readyState === 'open' && rb.channels.default?.readyState === 'open');
    const [firstA, firstB, record] = [ra.target as unknown as FakePC, rb.target as unknown as FakePC, ra.channels];
    expect(firstA.config?.iceServers).toEqual(a.turn);

    a.turn = [{ urls: 'turn:127.0.0.1:3478', username: '200:user-a', credential: 'new' }];
    firstA.connectionState = 'failed';
    firstA.dispatch('connectionstatechange'); // failed: restart at once, which a can only do as a renewal
    await until(() => ra.target !== (firstA as unknown as RTCPeerConnection) && rb.target !== (firstB as unknown as RTCPeerConnection));
    await until(() => ra.channels.default?.readyState === 'open' && rb.channels.default?.readyState === 'open');
    const [nextA, nextB] = [ra.target as unknown as FakePC, rb.target as unknown as FakePC];
    expect(nextA.config?.iceServers).toEqual(a.turn);
    expect(nextA.senders.map((s) => s.track.kind)).toEqual(['audio']);
    expect(ra.channels).toBe(record);
    expect(ra.call).toBe(rb.call);
    expect(firstB.closed).toBe(true); // the side that got the offer closed its old one at once
    await until(() => nextA.connectionState === 'connected' && firstA.closed); // the offering side once the new one connected
    expect(nextB.connectionState).toBe('connected');
    expect([...a.events, ...b.events].filter((e) => e.type === 'rtc:closed' || (e.type === 'rtc:incoming' && e.call !== ra.call))).toEqual([]);
    expect(ca.events.filter((e) => e.type === 'connectionstatechange' && e.state === 'closed')).toEqual([]);
  });
});

describe('calls: both sides renew at once', () => {
  it('the polite side drops its own new peer connection and answers the impolite one; one call, channels back', async () => {
    const server = new FakeServer();
    const a = new FakeClient(server, 'cid:aaa', 'user-a', { canRestartIce: false }); // polite (smaller cid)
    const b = new FakeClient(server, 'cid:bbb', 'user-b', { canRestartIce: false });
    const connector = await a.layer.connectRTC({ cid: b.cid }, () => undefined);
    const rb = (await (await incoming(b)).connectRTC({}, () => undefined))!;
    const ra = await connector.connection;
    await until(() => ra.channels.default?.readyState === 'open' && rb.channels.default?.readyState === 'open');
    const before = FakePC.all.length;
    type Internals = { calls: Map<string, { connection: { renew(generation: number, initiator: boolean, restarts: number): void } }> };
    for (const client of [a, b]) (client.layer as unknown as Internals).calls.get(ra.call)!.connection.renew(1, true, 1);
    await until(() => (ra.target as unknown as FakePC).connectionState === 'connected' && (rb.target as unknown as FakePC).connectionState === 'connected');
    await until(() => ra.channels.default?.readyState === 'open' && rb.channels.default?.readyState === 'open');
    const made = FakePC.all.slice(before);
    expect(made).toHaveLength(3); // a's first g1 (dropped), b's g1, a's answering g1
    expect(made.filter((pc) => !pc.closed)).toEqual([rb.target, ra.target]); // b's g1 and a's answer to it
    expect(made[0]!.closed).toBe(true);
    expect((ra.target as unknown as FakePC).peer).toBe(rb.target);
    expect([...a.events, ...b.events].filter((e) => e.type === 'rtc:closed')).toEqual([]);
  });
});
