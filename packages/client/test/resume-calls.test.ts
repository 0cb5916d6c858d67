/**
 * Calls across a resumed blip of the realtime connection (docs/adr/0008-resume.md): a connected
 * call goes on (peer to peer, nothing ends it), a ringing call keeps ringing, and a call signal
 * sent to the connection while it is away arrives after the resume.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { livePeerConnections } from '../src/node/index.js';
import type { ReconnectedEvent, RtcIncomingEvent } from '../src/types.js';
import { connectPair, nextMessage, NodePeer } from './node-harness.js';
import { startServer, until, type TestServer } from './server.js';

let server: TestServer;
const peers: NodePeer[] = [];
beforeAll(async () => {
  server = await startServer();
});
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await until(() => livePeerConnections() === 0, 5_000, 'every peer connection closed');
});
afterAll(() => server.close());

async function peer(user_id: string, held?: { wait: () => Promise<void> }): Promise<NodePeer> {
  const p = new NodePeer({
    url: server.url,
    reconnect: { baseDelayMs: 10, maxDelayMs: 50 },
    token: async () => {
      await held?.wait();
      return server.token(user_id);
    },
  });
  peers.push(p);
  return p;
}

it('a resumed blip: the call goes on, a ringing call is answered after it, an invite sent while away rings after it', async () => {
  let release: () => void = () => undefined;
  let held = Promise.resolve();
  const a = await (await peer('caller')).connect('blip');
  const b = await (await peer('blipper', { wait: () => held })).connect('blip');
  const c = await (await peer('latecomer')).connect('blip');
  const d = await (await peer('slowcoach')).connect('blip');
  const { caller, callee, aLog, bLog } = await connectPair(a, b);
  const aFrom = a.rt.mark();
  const bFrom = b.rt.mark();
  // b rings d, who answers only after the blip: a ringing call has no data channel to fall back on.
  const dFrom = d.rt.mark();
  const toD = await b.sb.connectRTC({ cid: d.cid }, () => undefined);
  const dIncoming = await d.incoming(dFrom);

  held = new Promise((resolve) => (release = resolve));
  expect(server.dropUser(b.user_id)).toBe(1);
  await b.rt.waitFor((e) => e.type === 'error' && e.message === 'Skapi: WebSocket unexpected close.', bFrom);
  // Peer to peer, the call does not notice.
  caller.channels.default!.send('during the blip');
  expect(await nextMessage(bLog, 'default', (d) => d === 'during the blip')).toBe('during the blip');
  // The server holds c's invite for b until b is back.
  const ringing = await c.sb.connectRTC({ cid: b.cid }, () => undefined);
  release();

  const outcome = (await b.rt.waitFor((e) => e.type === 'reconnect' && 'resumed' in e, bFrom)) as ReconnectedEvent;
  expect(outcome).toMatchObject({ resumed: true, cid: b.cid, previousCid: b.cid });
  const invite = (await b.rt.waitFor((e) => e.type === 'rtc:incoming', bFrom)) as RtcIncomingEvent;
  expect(invite).toMatchObject({ sender_cid: c.cid, call: ringing.call });
  invite.hangup('busy');
  await expect(ringing.connection).rejects.toMatchObject({ code: 'RTC_BUSY' });
  const accepted = await dIncoming.connectRTC({}, () => undefined);
  expect(accepted?.call).toBe(toD.call);
  expect((await toD.connection).call).toBe(toD.call);

  callee.channels.default!.send('after the blip');
  expect(await nextMessage(aLog, 'default', (d) => d === 'after the blip')).toBe('after the blip');
  expect(a.rt.count((e) => e.type === 'rtc:closed' && (e.message as { call: string }).call === caller.call, aFrom)).toBe(0);
  expect(b.rt.count((e) => e.type === 'rtc:closed' && (e.message as { call: string }).call === caller.call, bFrom)).toBe(0);
  expect(b.sb.cid).toBe(b.cid);
  caller.hangup();
  await b.rt.waitFor((e) => e.type === 'rtc:closed' && (e.message as { call: string }).call === caller.call, bFrom);
  expect(b.rt.count((e) => e.type === 'rtc:closed' && (e.message as { call: string }).call === toD.call, bFrom)).toBe(0);
});
