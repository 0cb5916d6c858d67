/**
 * Calls to a user_id (docs/api.md, "Ringing a user"): every connection of the user rings, the
 * first accept takes the call and the others stop ringing (answered_elsewhere); a decline on one
 * device declines everywhere; with no connection open, a push goes out and a connection that comes
 * up within the ring rings. Re-run across three nodes by cluster/cross-node.test.ts (the push
 * case too: caller, subscriber and the connection that comes up each on another node).
 */
import { describe, expect, it } from 'vitest';
import { startPushService } from '@switchboard/test-utils';
import { join, startServer, useCleanup, type Frame, type TestClient } from './helpers.js';

useCleanup();

const invite = { kind: 'invite', media: { audio: true, video: false }, channels: ['default'] };
const signal = (client: TestClient, to: string, call: string, sig: Record<string, unknown>) => client.request({ type: 'rtc', to, call, signal: sig });
const cidOf = async (client: TestClient) => (await client.welcome)['cid'] as string;
const isRtc = (call: string, kind: string) => (f: Frame) => f.type === 'rtc' && f['call'] === call && f['signal']?.kind === kind;

async function threeDevices() {
  const t = await startServer();
  const alice = await t.connect('alice', { name: 'Alice' });
  const phone = await t.connect('bob', { name: 'Bob' });
  const laptop = await t.connect('bob', { name: 'Bob' });
  return { t, alice, phone, laptop, aliceCid: await cidOf(alice), phoneCid: await cidOf(phone), laptopCid: await cidOf(laptop) };
}

describe('ringing a user', () => {
  it('rings every connection of the user (no shared group needed); the first accept wins, the others stop with answered_elsewhere', async () => {
    const { t, alice, phone, laptop, aliceCid, phoneCid, laptopCid } = await threeDevices();
    expect(await signal(alice, 'bob', 'ring-1', invite)).toMatchObject({ type: 'ack', result: { delivered: 2 } });
    for (const device of [phone, laptop]) {
      expect(await device.waitFor(isRtc('ring-1', 'invite'))).toEqual({
        type: 'rtc',
        call: 'ring-1',
        sender: 'alice',
        sender_cid: aliceCid,
        sender_name: 'Alice',
        signal: invite,
      });
    }
    // A connection that opens while it rings rings too.
    const tablet = await t.connect('bob');
    await tablet.waitFor(isRtc('ring-1', 'invite'));

    // Two devices accept at once: one wins; the other's accept is not relayed, it hears the call was answered elsewhere.
    const [laptopReply, phoneReply] = await Promise.all([
      signal(laptop, aliceCid, 'ring-1', { kind: 'accept' }),
      signal(phone, aliceCid, 'ring-1', { kind: 'accept' }),
    ]);
    expect([laptopReply['result'].delivered, phoneReply['result'].delivered].sort()).toEqual([0, 1]);
    const [winner, winnerCid, loser] = laptopReply['result'].delivered === 1 ? [laptop, laptopCid, phone] : [phone, phoneCid, laptop];
    expect(await alice.waitFor(isRtc('ring-1', 'accept'))).toMatchObject({ sender: 'bob', sender_cid: winnerCid });
    for (const device of [loser, tablet]) {
      expect((await device.waitFor(isRtc('ring-1', 'hangup'))).signal).toEqual({ kind: 'hangup', reason: 'answered_elsewhere' });
    }
    // The call goes on between the caller and the device that answered.
    await signal(alice, winnerCid, 'ring-1', { kind: 'description', description: { type: 'offer', sdp: 'v=0' } });
    await winner.waitFor(isRtc('ring-1', 'description'));
    const loserCid = winner === laptop ? phoneCid : laptopCid;
    expect(await signal(alice, loserCid, 'ring-1', { kind: 'candidate', candidate: null })).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    await winner.sync();
    expect(winner.all(isRtc('ring-1', 'hangup'))).toHaveLength(0);
    await alice.sync();
    expect(alice.all(isRtc('ring-1', 'accept'))).toHaveLength(1);
    // Once answered it rings no new connection.
    const late = await t.connect('bob');
    await late.sync();
    expect(late.all('rtc')).toHaveLength(0);
  });

  it('a decline on one device declines everywhere; a device going away while others ring does not end the call', async () => {
    const { t, alice, phone, laptop, aliceCid } = await threeDevices();
    const spare = await t.connect('bob');
    await signal(alice, 'bob', 'ring-2', invite);
    await Promise.all([phone, laptop, spare].map((d) => d.waitFor(isRtc('ring-2', 'invite'))));
    spare.terminate();
    await spare.closed;
    await signal(phone, aliceCid, 'ring-2', { kind: 'reject', reason: 'rejected' });
    expect((await alice.waitFor(isRtc('ring-2', 'reject'))).signal).toEqual({ kind: 'reject', reason: 'rejected' });
    expect((await laptop.waitFor(isRtc('ring-2', 'hangup'))).signal.reason).toBe('declined_elsewhere');
    await alice.sync();
    expect(alice.all(isRtc('ring-2', 'hangup'))).toHaveLength(0); // the spare's disconnect said nothing to the caller
  });

  it("the caller's hang-up (cancel or ring timeout) stops every device; own user: only the other devices ring", async () => {
    const { t, alice, phone, laptop } = await threeDevices();
    await signal(alice, 'bob', 'ring-3', invite);
    await Promise.all([phone, laptop].map((d) => d.waitFor(isRtc('ring-3', 'invite'))));
    await signal(alice, 'bob', 'ring-3', { kind: 'hangup', reason: 'timeout' });
    for (const device of [phone, laptop]) expect((await device.waitFor(isRtc('ring-3', 'hangup'))).signal.reason).toBe('timeout');
    const late = await t.connect('bob');
    await late.sync();
    expect(late.all('rtc')).toHaveLength(0);

    const other = await t.connect('alice');
    expect(await signal(alice, 'alice', 'ring-4', invite)).toMatchObject({ type: 'ack', result: { delivered: 1 } });
    await other.waitFor(isRtc('ring-4', 'invite'));
    await alice.sync();
    expect(alice.all('rtc')).toHaveLength(0);
  });

  it('nobody connected and no push subscription: RECIPIENT_NOT_FOUND; only invites and hang-ups go to a user_id', async () => {
    const t = await startServer();
    const alice = await t.connect('alice');
    const reply = await signal(alice, 'carol', 'ring-5', invite);
    expect(reply).toMatchObject({ type: 'error', code: 'RECIPIENT_NOT_FOUND' });
    expect(reply['message']).toMatch(/no open connection and no push subscription/);
    expect(await signal(alice, 'carol', 'ring-5', { kind: 'accept' })).toMatchObject({ type: 'error', code: 'INVALID_PARAMETER' });
    const carol = await t.connect('carol');
    await carol.sync();
    expect(carol.all('rtc')).toHaveLength(0);
  });
});

describe('ringing a user with no connection open', () => {
  it('pushes "<name> is calling" (decrypted by the push service); a connection that comes up within the ring rings', async () => {
    const push = await startPushService();
    try {
      const t = await startServer({ push: { retryBaseMs: 10, allowPrivateEndpoints: true } }, { pushAgent: push.agent });
      const sub = push.subscription();
      const alice = await t.connect('alice', { name: 'Alice' });
      const aliceCid = await cidOf(alice);
      const setup = await t.connect('bob');
      await setup.call({ type: 'push_subscribe', subscription: sub.json });
      // Bob's tab closes: alice's USER_DISCONNECTED notice says the server has forgotten it.
      await join(alice, 'g');
      await join(setup, 'g');
      setup.ws.close(1001); // going away: a closed tab, not resumed
      await alice.waitFor((f) => f.type === 'notice' && f['code'] === 'USER_DISCONNECTED');
      expect(await signal(alice, 'bob', 'ring-6', invite)).toMatchObject({ type: 'ack', result: { delivered: 0 } });
      const [received] = await push.waitFor(1);
      expect(received!.payload).toMatchObject({
        title: 'Alice is calling',
        data: { type: 'call', call: 'ring-6', sender: 'alice', sender_name: 'Alice', sender_cid: aliceCid },
      });
      expect(push.rejected).toEqual([]);
      const bob = await t.connect('bob');
      expect(await bob.waitFor(isRtc('ring-6', 'invite'))).toMatchObject({ sender: 'alice', sender_cid: aliceCid, signal: invite });
      await signal(bob, aliceCid, 'ring-6', { kind: 'accept' });
      await alice.waitFor(isRtc('ring-6', 'accept'));
    } finally {
      await push.close();
    }
  });
});
