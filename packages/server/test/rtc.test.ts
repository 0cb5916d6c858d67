import { describe, expect, it } from 'vitest';
import { join, startServer, useCleanup, type TestClient } from './helpers.js';

useCleanup();

async function pair(overrides = {}) {
  const t = await startServer(overrides);
  const caller = await t.connect('alice', { name: 'Alice' });
  const callee = await t.connect('bob', { name: 'Bob' });
  const callerCid = (await caller.welcome).cid as string;
  const calleeCid = (await callee.welcome).cid as string;
  return { t, caller, callee, callerCid, calleeCid };
}

const signal = (client: TestClient, to: string, call: string, sig: Record<string, unknown>) => client.request({ type: 'rtc', to, call, signal: sig });

describe('rtc relay', () => {
  it('relays to exactly one connection in a shared group, stamped with the sender, and acks {delivered:1}', async () => {
    const { t, caller, callee, callerCid, calleeCid } = await pair();
    const bystander = await t.connect('bob'); // bob's other device must not get it
    await join(caller, 'room');
    await join(callee, 'room');
    await join(bystander, 'room');
    const reply = await signal(caller, calleeCid, 'call-1', { kind: 'invite', media: { audio: true, video: false } });
    expect(reply).toMatchObject({ type: 'ack', result: { delivered: 1 } });
    expect(await callee.waitFor('rtc')).toEqual({
      type: 'rtc',
      call: 'call-1',
      sender: 'alice',
      sender_cid: callerCid,
      sender_name: 'Alice',
      signal: { kind: 'invite', media: { audio: true, video: false } },
    });
    // SDP is relayed verbatim, never parsed.
    const sdp = 'v=0\r\nnot really sdp %%% \u2603';
    await signal(caller, calleeCid, 'call-1', { kind: 'description', description: { type: 'offer', sdp } });
    expect((await callee.waitFor('rtc')).signal.description.sdp).toBe(sdp);
    await signal(caller, calleeCid, 'call-1', { kind: 'candidate', candidate: null });
    expect((await callee.waitFor('rtc')).signal).toEqual({ kind: 'candidate', candidate: null });
    // A renewed peer connection's generation (`pc`) is relayed as sent.
    await signal(caller, calleeCid, 'call-1', { kind: 'description', description: { type: 'offer', sdp }, pc: 2 });
    expect((await callee.waitFor('rtc')).signal).toEqual({ kind: 'description', description: { type: 'offer', sdp }, pc: 2 });
    // Without an id there is no ack.
    caller.send({ type: 'rtc', to: calleeCid, call: 'call-1', signal: { kind: 'candidate', candidate: null } });
    await callee.waitFor('rtc');
    await caller.sync();
    await bystander.sync();
    expect(caller.all((f) => f.type === 'ack' && 'delivered' in f.result)).toHaveLength(4);
    expect(bystander.all('rtc')).toHaveLength(0);
  });

  it("FORBIDDEN without a shared group; allowed between one user's devices or with rtc.allowAnyPair", async () => {
    const { t, caller, calleeCid } = await pair();
    await join(caller, 'room');
    expect(await signal(caller, calleeCid, 'c', { kind: 'invite' })).toMatchObject({
      type: 'error',
      code: 'FORBIDDEN',
      message: 'You can only signal connections that share a group with you.',
    });
    const otherDevice = await t.connect('alice');
    const otherCid = (await otherDevice.welcome).cid;
    expect((await signal(caller, otherCid, 'c', { kind: 'invite' })).type).toBe('ack');

    const open = await pair({ rtc: { allowAnyPair: true } });
    expect((await signal(open.caller, open.calleeCid, 'c', { kind: 'invite' })).type).toBe('ack');
  });

  it('RECIPIENT_NOT_FOUND for an unknown cid; INVALID_REQUEST for your own', async () => {
    const { caller, callerCid } = await pair();
    expect(await signal(caller, 'cid:gone', 'c', { kind: 'invite' })).toMatchObject({ type: 'error', code: 'RECIPIENT_NOT_FOUND' });
    expect(await signal(caller, callerCid, 'c', { kind: 'invite' })).toMatchObject({ type: 'error', code: 'INVALID_REQUEST' });
    // A user_id takes only an invite or a hang-up (ring-user.test.ts); an accept goes to a cid.
    expect(await caller.request({ type: 'rtc', to: 'bob', call: 'c', signal: { kind: 'accept' } })).toMatchObject({ code: 'INVALID_PARAMETER' });
    expect(await caller.request({ type: 'rtc', to: 'cid:x', call: 'bad id!', signal: { kind: 'invite' } })).toMatchObject({ code: 'INVALID_PARAMETER' });
  });

  it('accept for a call that is not ringing is RTC_CALL_NOT_FOUND', async () => {
    const { caller, callee, callerCid, calleeCid } = await pair();
    await join(caller, 'room');
    await join(callee, 'room');
    expect(await signal(callee, callerCid, 'never', { kind: 'accept' })).toMatchObject({ type: 'error', code: 'RTC_CALL_NOT_FOUND' });
    await signal(caller, calleeCid, 'c1', { kind: 'invite' });
    await signal(caller, calleeCid, 'c1', { kind: 'hangup', reason: 'cancelled' });
    expect(await signal(callee, callerCid, 'c1', { kind: 'accept' })).toMatchObject({ type: 'error', code: 'RTC_CALL_NOT_FOUND' });
  });

  it('bounds ringing calls per connection', async () => {
    const { caller, callee, calleeCid } = await pair({ limits: { maxRingingCalls: 2 } });
    await join(caller, 'room');
    await join(callee, 'room');
    expect((await signal(caller, calleeCid, 'r1', { kind: 'invite' })).type).toBe('ack');
    expect((await signal(caller, calleeCid, 'r2', { kind: 'invite' })).type).toBe('ack');
    expect(await signal(caller, calleeCid, 'r3', { kind: 'invite' })).toMatchObject({ type: 'error', code: 'TOO_MANY_CALLS' });
    await signal(caller, calleeCid, 'r1', { kind: 'hangup' });
    expect((await signal(caller, calleeCid, 'r3', { kind: 'invite' })).type).toBe('ack');
  });

  it('an ongoing call may keep signaling after a side left the group', async () => {
    const { caller, callee, callerCid, calleeCid } = await pair();
    await join(caller, 'room');
    await join(callee, 'room');
    await signal(caller, calleeCid, 'c', { kind: 'invite' });
    await signal(callee, callerCid, 'c', { kind: 'accept' });
    await join(callee, null);
    expect((await signal(callee, callerCid, 'c', { kind: 'hangup' })).type).toBe('ack');
    expect(await signal(callee, callerCid, 'c', { kind: 'candidate', candidate: null })).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('call registry hangups on disconnect', () => {
  const hangupOf = (client: TestClient, call: string) => client.waitFor((f) => f.type === 'rtc' && f.call === call && f.signal.kind === 'hangup');

  it('callee gone while ringing → caller gets peer_gone from the callee', async () => {
    const { caller, callee, calleeCid } = await pair();
    await join(caller, 'room');
    await join(callee, 'room');
    await signal(caller, calleeCid, 'ring-1', { kind: 'invite' });
    await callee.waitFor('rtc');
    await callee.close();
    expect(await hangupOf(caller, 'ring-1')).toEqual({
      type: 'rtc',
      call: 'ring-1',
      sender: 'bob',
      sender_cid: calleeCid,
      sender_name: 'Bob',
      signal: { kind: 'hangup', reason: 'peer_gone' },
    });
  });

  it('caller gone while ringing → callee gets cancelled from the caller', async () => {
    const { caller, callee, callerCid, calleeCid } = await pair();
    await join(caller, 'room');
    await join(callee, 'room');
    await signal(caller, calleeCid, 'ring-2', { kind: 'invite' });
    await callee.waitFor('rtc');
    await caller.close();
    const hangup = await hangupOf(callee, 'ring-2');
    expect(hangup).toMatchObject({ sender: 'alice', sender_cid: callerCid, signal: { kind: 'hangup', reason: 'cancelled' } });
  });

  it('either side of an active call gone → the other gets peer_gone', async () => {
    for (const goes of ['caller', 'callee'] as const) {
      const { caller, callee, callerCid, calleeCid } = await pair();
      await join(caller, 'room');
      await join(callee, 'room');
      await signal(caller, calleeCid, 'live', { kind: 'invite' });
      await signal(callee, callerCid, 'live', { kind: 'accept' });
      const [leaving, staying, leavingCid] = goes === 'caller' ? [caller, callee, callerCid] : [callee, caller, calleeCid];
      await leaving.close();
      expect(await hangupOf(staying, 'live')).toMatchObject({ sender_cid: leavingCid, signal: { kind: 'hangup', reason: 'peer_gone' } });
    }
  });

  it('ended calls are forgotten: no hangup on a later disconnect', async () => {
    const { caller, callee, callerCid, calleeCid } = await pair();
    await join(caller, 'room');
    await join(callee, 'room');
    await signal(caller, calleeCid, 'done', { kind: 'invite' });
    await signal(callee, callerCid, 'done', { kind: 'reject', reason: 'busy' });
    await callee.close();
    await caller.waitFor((f) => f.code === 'USER_DISCONNECTED');
    await caller.sync();
    expect(caller.all((f) => f.type === 'rtc' && f.signal.kind === 'hangup')).toHaveLength(0);
  });
});
