/** The call state machine over fake peer connections and a fake relay (see calls-fakes.ts). */
import { describe, expect, it } from 'vitest';
import type { RTCEvent, RTCResolved, RtcIncomingEvent } from '../src/types.js';
import { FakeClient, FakePC, FakeServer, FakeStream, FakeTrack, until } from './calls-fakes.js';

function pair(opts: { ringTimeoutMs?: number } = {}): { server: FakeServer; a: FakeClient; b: FakeClient } {
  const server = new FakeServer();
  // a's cid sorts before b's: a is polite, and a wins glare.
  return { server, a: new FakeClient(server, 'cid:aaa', 'user-a', opts), b: new FakeClient(server, 'cid:bbb', 'user-b', opts) };
}

function recorder(): { events: RTCEvent[]; cb: (e: RTCEvent) => void } {
  const events: RTCEvent[] = [];
  return { events, cb: (e) => events.push(e) };
}

async function incoming(client: FakeClient, index = 0): Promise<RtcIncomingEvent> {
  await until(() => client.of('rtc:incoming').length > index);
  return client.of('rtc:incoming')[index]!;
}

async function connectedPair(): Promise<{ server: FakeServer; a: FakeClient; b: FakeClient; ra: RTCResolved; rb: RTCResolved; ea: RTCEvent[]; eb: RTCEvent[] }> {
  const { server, a, b } = pair();
  const ca = recorder();
  const cb = recorder();
  const connector = await a.layer.connectRTC({ cid: b.cid, media: { audio: true, video: true } }, ca.cb);
  const rt = await incoming(b);
  const rb = (await rt.connectRTC({ media: { audio: true, video: false } }, cb.cb))!;
  const ra = await connector.connection;
  await until(() => ca.events.some((e) => e.type === 'open' && e.label === 'default'));
  await until(() => cb.events.some((e) => e.type === 'open' && e.label === 'default'));
  return { server, a, b, ra, rb, ea: ca.events, eb: cb.events };
}

describe('calls: happy path', () => {
  it('rings, accepts, connects; rtc:incoming carries Skapi fields plus call, sender_name, media', async () => {
    const { a, b } = pair();
    const ca = recorder();
    const connector = await a.layer.connectRTC({ cid: b.cid, media: { audio: true, video: true }, channels: ['text-chat', { protocol: 'files', ordered: false }] }, ca.cb);
    expect(typeof connector.call).toBe('string');
    const rt = await incoming(b);
    expect(rt).toMatchObject({
      type: 'rtc:incoming', sender: 'user-a', sender_cid: a.cid, sender_rid: null, code: null,
      call: connector.call, sender_name: 'name-user-a', media: { audio: true, video: true },
    });
    const eb = recorder();
    const rb = await rt.connectRTC(undefined, eb.cb);
    expect(rb).not.toBeNull();
    const ra = await connector.connection;
    expect(ra.call).toBe(rb!.call);
    expect(ra.media).toBe(a.opened[0]);
    expect(rb!.media).toBeNull(); // callee accepted without media: data only
    await until(() => Object.keys(rb!.channels).length === 2);
    expect(Object.keys(ra.channels).sort()).toEqual(['files', 'text-chat']);
    expect(Object.keys(rb!.channels).sort()).toEqual(['files', 'text-chat']);
    (ra.channels['text-chat'] as unknown as { send(d: string): void }).send('hi');
    await until(() => eb.events.some((e) => e.type === 'message'));
    expect(eb.events.find((e) => e.type === 'message')).toMatchObject({ label: 'text-chat', data: 'hi' });
    expect(eb.events.filter((e) => e.type === 'track')).toHaveLength(2);
    // Accepting again, or after it stopped ringing, resolves null.
    expect(await rt.connectRTC(undefined, eb.cb)).toBeNull();
    const pcs = FakePC.all.filter((pc) => pc === ra.target as unknown || pc === rb!.target as unknown);
    expect(pcs).toHaveLength(2);
    expect(pcs.every((pc) => pc.channels.some((c) => c.label === '__switchboard'))).toBe(true);
    expect(Object.keys(ra.channels)).not.toContain('__switchboard');
  });

  it('hangup after pickup: rtc:closed once on both sides with who hung up, synthetic closed, SDK media stopped', async () => {
    const { a, b, ra, ea, eb } = await connectedPair();
    ra.hangup();
    await until(() => b.of('rtc:closed').length === 1 && a.of('rtc:closed').length === 1);
    expect(a.of('rtc:closed')[0]!.message).toEqual({ hungup: 'user-a', reason: 'hangup', call: ra.call });
    expect(b.of('rtc:closed')[0]).toMatchObject({ message: { hungup: 'user-a', reason: 'hangup', call: ra.call }, sender: 'user-a', sender_cid: a.cid });
    await until(() => ea.some((e) => e.type === 'connectionstatechange' && e.state === 'closed'));
    await until(() => eb.some((e) => e.type === 'connectionstatechange' && e.state === 'closed'));
    expect(a.opened[0]!.tracks.every((t) => t.readyState === 'ended')).toBe(true);
    expect(b.opened[0]!.tracks.every((t) => t.readyState === 'ended')).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.of('rtc:closed')).toHaveLength(1);
    expect(b.of('rtc:closed')).toHaveLength(1);
  });

  it('hangup reaches the other side over the control channel when the signaling server is down', async () => {
    const { server, a, b, rb } = await connectedPair();
    server.down = true;
    rb.hangup();
    await until(() => a.of('rtc:closed').length === 1);
    expect(a.of('rtc:closed')[0]!.message).toMatchObject({ hungup: 'user-b', reason: 'hangup' });
    expect(server.frames.filter((f) => f.signal.kind === 'hangup')).toHaveLength(0);
  });

  it('closing data channels does not end the call', async () => {
    const { a, b, ra, rb } = await connectedPair();
    for (const channel of Object.values(ra.channels)) channel.close();
    await until(() => Object.keys(rb.channels).length === 0);
    await new Promise((r) => setTimeout(r, 20));
    expect(a.of('rtc:closed')).toHaveLength(0);
    expect(b.of('rtc:closed')).toHaveLength(0);
  });

  it('the app closing target itself ends the call on both sides', async () => {
    const { a, b, ra, ea } = await connectedPair();
    ra.target.close();
    await until(() => a.of('rtc:closed').length === 1 && b.of('rtc:closed').length === 1);
    expect(a.of('rtc:closed')[0]!.message).toMatchObject({ hungup: 'user-a', reason: 'hangup' });
    expect(b.of('rtc:closed')[0]!.message).toMatchObject({ hungup: 'user-a', reason: 'hangup' });
    expect(a.opened[0]!.tracks.every((t) => t.readyState === 'ended')).toBe(true);
    await until(() => ea.some((e) => e.type === 'connectionstatechange' && e.state === 'closed'));
  });

  it('the peer connection closing without a hang-up ends the call as peer_gone', async () => {
    const { a, b, rb } = await connectedPair();
    FakePC.prototype.close.call(rb.target as unknown as FakePC); // the peer crashes: its connection goes, nothing is said
    await until(() => a.of('rtc:closed').length === 1, 3000);
    expect(a.of('rtc:closed')[0]!.message).toMatchObject({ reason: 'peer_gone', hungup: 'user-b' });
    void b;
  });

  it('the page leaving (pagehide) ends its calls: the peer hears peer_gone at once', async () => {
    const { a, b } = await connectedPair();
    b.layer.leavePage();
    await until(() => a.of('rtc:closed').length === 1, 1000);
    expect(a.of('rtc:closed')[0]!.message).toMatchObject({ reason: 'peer_gone', hungup: 'user-b' });
  });

  it('the server says peer_gone, the peer still answers a ping, then its path fails: ends as peer_gone, not after the restarts', async () => {
    // A page being unloaded answers a ping after its realtime connection went; then it is gone for good.
    const { server, a, b, ra, rb } = await connectedPair();
    server.deliver(a, { call: ra.call, sender: 'user-b', sender_cid: b.cid, sender_name: null, signal: { kind: 'hangup', reason: 'peer_gone' } });
    await new Promise((r) => setTimeout(r, 100));
    expect(a.of('rtc:closed')).toHaveLength(0); // answered: the call lives on
    b.connected = false;
    server.clients.delete(b.cid);
    (ra.target as unknown as FakePC).setPath('disconnected');
    await until(() => a.of('rtc:closed').length === 1, 1000);
    expect(a.of('rtc:closed')[0]!.message).toMatchObject({ reason: 'peer_gone', hungup: 'user-b' });
    void rb;
  });

  it('the peer comes back with a new cid after the server said peer_gone: a path blip is restarted, not ended', async () => {
    const { server, a, b, ra } = await connectedPair();
    server.deliver(a, { call: ra.call, sender: 'user-b', sender_cid: b.cid, sender_name: null, signal: { kind: 'hangup', reason: 'peer_gone' } });
    await new Promise((r) => setTimeout(r, 100));
    b.reconnect('cid:bbb2'); // tells a its new cid over the control channel
    await new Promise((r) => setTimeout(r, 50));
    (ra.target as unknown as FakePC).setPath('disconnected');
    await new Promise((r) => setTimeout(r, 200));
    expect(a.of('rtc:closed')).toHaveLength(0);
    (ra.target as unknown as FakePC).setPath('connected');
  });
});

describe('calls: endings before pickup', () => {
  it('reject → RTC_REJECTED; busy → RTC_BUSY; rtc:closed on both sides', async () => {
    for (const reason of ['rejected', 'busy'] as const) {
      const { a, b } = pair();
      const connector = await a.layer.connectRTC({ cid: b.cid }, () => undefined);
      const rt = await incoming(b);
      rt.hangup(reason === 'busy' ? 'busy' : undefined);
      await expect(connector.connection).rejects.toMatchObject({ code: reason === 'busy' ? 'RTC_BUSY' : 'RTC_REJECTED' });
      await until(() => a.of('rtc:closed').length === 1);
      expect(a.of('rtc:closed')[0]!.message).toEqual({ hungup: 'user-b', reason, call: connector.call });
      expect(b.of('rtc:closed')[0]!.message).toEqual({ hungup: 'user-b', reason, call: connector.call });
    }
  });

  it('caller hangs up while ringing → RTC_CANCELLED; the callee can no longer accept', async () => {
    const { a, b } = pair();
    const connector = await a.layer.connectRTC({ cid: b.cid, media: { video: true } }, () => undefined);
    const rt = await incoming(b);
    connector.hangup();
    await expect(connector.connection).rejects.toMatchObject({ code: 'RTC_CANCELLED' });
    await until(() => b.of('rtc:closed').length === 1);
    expect(b.of('rtc:closed')[0]!.message).toMatchObject({ hungup: 'user-a', reason: 'cancelled' });
    expect(await rt.connectRTC({}, () => undefined)).toBeNull();
    expect(a.opened[0]!.tracks[0]!.readyState).toBe('ended');
  });

  it('nobody answers → RTC_TIMEOUT and hangup{timeout} to the callee', async () => {
    const { a, b } = pair({ ringTimeoutMs: 60 });
    const connector = await a.layer.connectRTC({ cid: b.cid }, () => undefined);
    await incoming(b);
    await expect(connector.connection).rejects.toMatchObject({ code: 'RTC_TIMEOUT' });
    await until(() => b.of('rtc:closed').length === 1);
    expect(b.of('rtc:closed')[0]!.message).toMatchObject({ reason: 'timeout', hungup: 'user-a' });
  });

  it('unknown cid (RECIPIENT_NOT_FOUND) or the server saying peer_gone → RTC_PEER_GONE', async () => {
    const { server, a, b } = pair();
    const gone = await a.layer.connectRTC({ cid: 'cid:nobody' }, () => undefined);
    await expect(gone.connection).rejects.toMatchObject({ code: 'RTC_PEER_GONE' });
    const connector = await a.layer.connectRTC({ cid: b.cid }, () => undefined);
    await incoming(b);
    server.deliver(a, { call: connector.call, sender: 'user-b', sender_cid: b.cid, sender_name: null, signal: { kind: 'hangup', reason: 'peer_gone' } });
    await expect(connector.connection).rejects.toMatchObject({ code: 'RTC_PEER_GONE' });
  });

  it('the realtime connection closing while ringing settles the call', async () => {
    const { a, b } = pair();
    const connector = await a.layer.connectRTC({ cid: b.cid }, () => undefined);
    await incoming(b);
    a.drop();
    await expect(connector.connection).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(a.of('rtc:closed')).toHaveLength(1);
  });
});

describe('calls: glare and repeated calls', () => {
  it('two users calling each other at once end up in exactly one call', async () => {
    const { a, b } = pair();
    const [ca, cb] = await Promise.all([
      a.layer.connectRTC({ cid: b.cid }, () => undefined),
      b.layer.connectRTC({ cid: a.cid }, () => undefined),
    ]);
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
      const pendingSlow = first.layer.connectRTC({ cid: second.cid, media: { video: true, audio: false } }, () => undefined);
      await new Promise((r) => setTimeout(r, 10)); // the slow side is opening its camera
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
    server.deliver(b, { call: first.call, sender: 'user-a', sender_cid: a.cid, sender_name: null, signal: { kind: 'description', description: { type: 'offer', sdp: 'fake stale' } } });
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

describe('calls: parameters (Skapi messages)', () => {
  it('validates connectRTC', async () => {
    const { a, b } = pair();
    const cb = (): void => undefined;
    await expect(a.layer.connectRTC({ cid: b.cid }, undefined as never)).rejects.toMatchObject({ code: 'INVALID_PARAMETER', message: 'Callback is required.' });
    await expect(a.layer.connectRTC({} as never, cb)).rejects.toMatchObject({ code: 'INVALID_PARAMETER', message: 'Key "cid" is required.' });
    await expect(a.layer.connectRTC({ cid: 5 } as never, cb)).rejects.toMatchObject({ message: '"cid" should be type: <string>.' });
    await expect(a.layer.connectRTC({ cid: 'bbb' }, cb)).rejects.toMatchObject({ message: '"cid" should be a valid connection id.' });
    await expect(a.layer.connectRTC({ cid: b.cid, channels: ['chat' as never] }, cb)).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    await expect(a.layer.connectRTC({ cid: b.cid, channels: [42 as never] }, cb)).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    await expect(a.layer.connectRTC({ cid: b.cid, channels: ['gaming', 'gaming'] }, cb)).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: 'Data channel with the protocol "gaming" already exists.' });
    await expect(a.layer.connectRTC({ cid: b.cid, ice: 'http://x' }, cb)).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    await expect(a.layer.connectRTC({ cid: b.cid, iceTransportPolicy: 'none' as never }, cb)).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    a.connected = false;
    await expect(a.layer.connectRTC({ cid: b.cid }, cb)).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: 'No realtime connection. Execute connectRealtime() before this method.' });
    await expect(a.layer.closeRTC({})).rejects.toMatchObject({ code: 'INVALID_PARAMETER', message: '"cid" is required.' });
  });

  it('media: insecure context, no getUserMedia, {audio:false, video:false}, app stream used as given', async () => {
    const server = new FakeServer();
    const insecure = new FakeClient(server, 'cid:i', 'u-i', { secure: false });
    const nomedia = new FakeClient(server, 'cid:n', 'u-n', { getUserMedia: false });
    const b = new FakeClient(server, 'cid:z', 'u-z');
    const cb = (): void => undefined;
    await expect(insecure.layer.connectRTC({ cid: b.cid, media: { video: true } }, cb)).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: 'Media stream is only supported on either localhost or https.' });
    await expect(nomedia.layer.connectRTC({ cid: b.cid, media: { audio: true } }, cb)).rejects.toMatchObject({ code: 'NOT_SUPPORTED', message: expect.stringContaining('data channels work') });
    // No media asked: fine everywhere.
    const quiet = await nomedia.layer.connectRTC({ cid: b.cid, media: { audio: false, video: false } }, cb);
    const rt = await incoming(b);
    expect(rt.media).toEqual({ audio: false, video: false });
    const own = new FakeStream([new FakeTrack('video')]);
    const rb = (await rt.connectRTC({ media: own as never }, cb))!;
    expect(rb.media).toBe(own);
    const ra = await quiet.connection;
    expect(ra.media).toBeNull();
    rb.hangup();
    await until(() => b.of('rtc:closed').length === 1);
    expect(own.tracks[0]!.readyState).toBe('live'); // the app's own tracks are never stopped by the SDK
  });

  it('closeRTC({close_all}) ends every call', async () => {
    const { a, b } = await connectedPair();
    await a.layer.closeRTC({ close_all: true });
    expect(a.of('rtc:closed')).toHaveLength(1);
    await until(() => b.of('rtc:closed').length === 1);
  });
});
