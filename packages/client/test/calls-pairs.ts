/** Shared set-up for the call state machine tests: two fake clients on a fake relay, a connected pair. */
import type { RTCEvent, RTCResolved, RtcIncomingEvent } from '../src/types.js';
import { FakeClient, FakeServer, until } from './calls-fakes.js';

export function pair(opts: { ringTimeoutMs?: number } = {}): { server: FakeServer; a: FakeClient; b: FakeClient } {
  const server = new FakeServer();
  // a's cid sorts before b's: a is polite, and a wins glare.
  return { server, a: new FakeClient(server, 'cid:aaa', 'user-a', opts), b: new FakeClient(server, 'cid:bbb', 'user-b', opts) };
}

export function recorder(): { events: RTCEvent[]; cb: (e: RTCEvent) => void } {
  const events: RTCEvent[] = [];
  return { events, cb: (e) => events.push(e) };
}

export async function incoming(client: FakeClient, index = 0): Promise<RtcIncomingEvent> {
  await until(() => client.of('rtc:incoming').length > index);
  return client.of('rtc:incoming')[index]!;
}

export async function connectedPair(): Promise<{
  server: FakeServer;
  a: FakeClient;
  b: FakeClient;
  ra: RTCResolved;
  rb: RTCResolved;
  ea: RTCEvent[];
  eb: RTCEvent[];
}> {
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
