/** The call state machine over fake peer connections and a fake relay (see calls-fakes.ts): calls that connect and how they end. */
import { describe, expect, it } from 'vitest';
import { FakePC, until } from './calls-fakes.js';
import { pair, recorder, incoming, connectedPair } from './calls-pairs.js';

describe('calls: happy path', () => {
  it('rings, accepts, connects; rtc:incoming carries Skapi fields plus call, sender_name, media', async () => {
    const { a, b } = pair();
    const ca = recorder();
    const connector = await a.layer.connectRTC(
      { cid: b.cid, media: { audio: true, video: true }, channels: ['text-chat', { protocol: 'files', ordered: false }] },
      ca.cb,
    );
    expect(typeof connector.call).toBe('string');
    const rt = await incoming(b);
    expect(rt).toMatchObject({
      type: 'rtc:incoming',
      sender: 'user-a',
      sender_cid: a.cid,
      sender_rid: null,
      code: null,
      call: connector.call,
      sender_name: 'name-user-a',
      media: { audio: true, video: true },
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
    const pcs = FakePC.all.filter((pc) => pc === (ra.target as unknown) || pc === (rb!.target as unknown));
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
    const { server, a, rb } = await connectedPair();
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
