/**
 * connectRTC({ user_id }) between Node peers (ws + node-datachannel) on 127.0.0.1: both of the
 * callee's connections ring, the one that accepts gets the call (data flows), the other stops
 * ringing with rtc:closed `answered_elsewhere`; a decline on one device declines the call.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { livePeerConnections } from '../src/node/index.js';
import type { RtcIncomingEvent } from '../src/types.js';
import { nextMessage, NodePeer, openChannel, RtcLog } from './node-harness.js';
import { startServer, until, type TestServer } from './server.js';

let server: TestServer;
const peers: NodePeer[] = [];
let n = 0;

beforeAll(async () => {
  server = await startServer({ guests: true });
});
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await until(() => livePeerConnections() === 0, 5_000, 'every peer connection closed');
});
afterAll(() => server.close());

async function peer(user: string, name: string): Promise<NodePeer> {
  const p = new NodePeer({ url: server.url, token: await server.token(user, name) });
  peers.push(p);
  return p.connect();
}

/** Alice, and Bob on two connections (a phone and a laptop), sharing no group. */
async function setup() {
  const bob = `bob-${++n}`;
  const alice = await peer(`alice-${n}`, 'Alice');
  const phone = await peer(bob, 'Bob');
  const laptop = await peer(bob, 'Bob');
  return { bob, alice, phone, laptop };
}

const closedReason = (e: object) => (e as { message: { reason: string } }).message.reason;

describe('connectRTC({ user_id }) rings every connection of the user', () => {
  it('both devices ring; the one that accepts gets the call and data flows; the other stops with answered_elsewhere', async () => {
    const { bob, alice, phone, laptop } = await setup();
    const [phoneFrom, laptopFrom] = [phone.rt.mark(), laptop.rt.mark()];
    const aliceLog = new RtcLog();
    const connector = await alice.sb.connectRTC({ user_id: bob }, aliceLog.cb);
    const [onPhone, onLaptop] = await Promise.all([phone.incoming(phoneFrom), laptop.incoming(laptopFrom)]);
    for (const e of [onPhone, onLaptop]) expect(e).toMatchObject({ sender: alice.user_id, sender_cid: alice.cid, sender_name: 'Alice', call: connector.call });

    const laptopLog = new RtcLog();
    const callee = await (onLaptop as RtcIncomingEvent).connectRTC({}, laptopLog.cb);
    if (!callee) throw new Error('the call stopped ringing before it was accepted');
    const caller = await connector.connection;
    const closed = await phone.rt.waitFor((e) => e.type === 'rtc:closed', phoneFrom);
    expect(closed).toMatchObject({ sender_cid: alice.cid, message: { reason: 'answered_elsewhere', call: connector.call } });
    expect((closed as { message: { error?: unknown } }).message.error).toBeUndefined();

    const [aChannel, bChannel] = await Promise.all([openChannel(caller, aliceLog), openChannel(callee, laptopLog)]);
    aChannel.send('hello laptop');
    expect(await nextMessage(laptopLog, 'default')).toBe('hello laptop');
    bChannel.send('hello alice');
    expect(await nextMessage(aliceLog, 'default')).toBe('hello alice');
    // The caller's peer is now the laptop's connection: a hang-up reaches it.
    const laptopClosed = laptop.rt.mark();
    connector.hangup();
    expect(closedReason(await laptop.rt.waitFor((e) => e.type === 'rtc:closed', laptopClosed))).toBe('hangup');
    expect(phone.rt.count((e) => e.type === 'rtc:closed', phoneFrom)).toBe(1);
  });

  it('a decline on one device declines the call everywhere (the caller gets RTC_REJECTED)', async () => {
    const { bob, alice, phone, laptop } = await setup();
    const [phoneFrom, laptopFrom] = [phone.rt.mark(), laptop.rt.mark()];
    const connector = await alice.sb.connectRTC({ user_id: bob }, new RtcLog().cb);
    const [onPhone] = await Promise.all([phone.incoming(phoneFrom), laptop.incoming(laptopFrom)]);
    onPhone.hangup();
    await expect(connector.connection).rejects.toMatchObject({ code: 'RTC_REJECTED' });
    expect(closedReason(await laptop.rt.waitFor((e) => e.type === 'rtc:closed', laptopFrom))).toBe('declined_elsewhere');
  });

  it('nobody of that user connected and no push subscription: the connection rejects at once', async () => {
    const alice = await peer(`alice-${++n}`, 'Alice');
    const connector = await alice.sb.connectRTC({ user_id: `nobody-${n}` }, new RtcLog().cb);
    const error = await connector.connection.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RTC_PEER_GONE' });
    expect(String((error as Error).message)).toMatch(/no open connection and no push subscription/);
  });
});
