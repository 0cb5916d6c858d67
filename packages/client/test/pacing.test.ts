/**
 * Load tests (loopback, bounded): the SDK paces itself to the rate limit its welcome announces,
 * so honest bursts never hit it. Real server on an ephemeral port, real SDK clients over ws,
 * the server's default limits (50 messages/s, burst 100).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX, type RtcSignal } from '@switchboard/protocol';
import { WebSocket } from 'ws';
import { Switchboard } from '../src/node/index.js';
import { switchboardInternals } from '../src/switchboard.js';
import { Recorder } from './recorder.js';
import { startServer, until, type TestServer } from './server.js';

let server: TestServer;
const clients: Switchboard[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  server = await startServer();
});
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(clients.splice(0).map((sb) => sb.closeRealtime()));
  await until(() => server.server.connectionCount() === 0, 5_000, 'all connections closed');
});
afterAll(() => server.close());

async function connect(user_id: string) {
  const sb = new Switchboard({ url: server.url, token: await server.token(user_id) });
  clients.push(sb);
  const events = new Recorder();
  const { cid } = await sb.connectRealtime(events.cb);
  return { sb, events, cid };
}

/** How many error frames with `code` the server has sent since it started (its /metrics). */
async function errorsSent(code: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('switchboard_errors_total') && l.includes(`code="${code}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** A bare ws client in `group` that collects the `rtc` frames it receives. */
async function rawMember(user_id: string, group: string): Promise<{ cid: string; rtc: { signal: RtcSignal }[] }> {
  const ws = new WebSocket(server.url.replace('http', 'ws') + '/v1/realtime', [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${await server.token(user_id)}`]);
  sockets.push(ws);
  const rtc: { signal: RtcSignal }[] = [];
  let cid = '';
  await new Promise<void>((resolve, reject) => {
    ws.on('error', reject);
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; cid?: string; id?: number; signal?: RtcSignal };
      if (frame.type === 'welcome') {
        cid = frame.cid!;
        ws.send(JSON.stringify({ type: 'join', id: 1, group }));
      } else if (frame.type === 'ack' && frame.id === 1) resolve();
      else if (frame.type === 'rtc') rtc.push(frame as { signal: RtcSignal });
    });
  });
  return { cid, rtc };
}

describe('pacing to the announced rate limit', () => {
  it('1,000 postRealtime() in a tight loop all resolve, in order; the receiver gets all 1,000 in order; no close', async () => {
    const sender = await connect('loop-sender');
    const receiver = await connect('loop-receiver');
    const N = 1000;
    const started = Date.now();
    const order: number[] = [];
    const posts = Array.from({ length: N }, (_, i) =>
      sender.sb.postRealtime({ seq: i }, 'loop-receiver').then((result) => {
        order.push(i);
        return result;
      }),
    );
    const results = await Promise.allSettled(posts);
    const duration = Date.now() - started;
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed.map((r) => String((r as PromiseRejectedResult).reason)).slice(0, 3)).toEqual([]);
    expect(order).toEqual([...Array(N).keys()]);
    await until(() => receiver.events.of('private').length >= N, 10_000, 'all messages received');
    expect(receiver.events.of('private').map((e) => (e.message as { seq: number }).seq)).toEqual([...Array(N).keys()]);
    expect(sender.events.of('close')).toHaveLength(0);
    expect(sender.events.of('reconnect')).toHaveLength(0);
    expect(sender.sb.connectionState).toBe('open');
    expect(await errorsSent('RATE_LIMITED')).toBe(0);
    // Paced at 90 % of 50/s after a burst of 80: about 20 s; never faster than the server allows.
    const floor = ((N - DEFAULT_LIMITS.messageBurst) / DEFAULT_LIMITS.messagesPerSecond) * 1000;
    expect(duration).toBeGreaterThan(floor);
    console.log(
      `1,000 postRealtime: ${duration} ms (${((N / duration) * 1000).toFixed(1)}/s, server limit ${DEFAULT_LIMITS.messagesPerSecond}/s burst ${DEFAULT_LIMITS.messageBurst}); 0 failed, 0 RATE_LIMITED`,
    );
  }, 60_000);

  it('a burst of 300 ICE candidates goes out paced: none hits the limit, all arrive in order', async () => {
    const caller = await connect('ice-caller');
    await caller.sb.joinRealtime({ group: 'ice-room' });
    const callee = await rawMember('ice-callee', 'ice-room');
    const before = await errorsSent('RATE_LIMITED');
    const N = 300;
    const started = Date.now();
    const sends = Array.from({ length: N }, (_, i) =>
      switchboardInternals(caller.sb).host.sendSignal(callee.cid, 'burst', {
        kind: 'candidate',
        candidate: { candidate: `candidate:${i} 1 udp 2122260223 192.0.2.1 ${50_000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0 },
      }),
    );
    const results = await Promise.allSettled(sends);
    const duration = Date.now() - started;
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(0);
    await until(() => callee.rtc.length >= N, 10_000, 'all candidates relayed');
    const ports = callee.rtc.map((f) => (f.signal.kind === 'candidate' ? Number(f.signal.candidate?.candidate.split(' ')[5]) - 50_000 : -1));
    expect(ports).toEqual([...Array(N).keys()]);
    expect(await errorsSent('RATE_LIMITED')).toBe(before);
    expect(caller.sb.connectionState).toBe('open');
    console.log(`300 candidate signals: ${duration} ms (${((N / duration) * 1000).toFixed(1)}/s); 0 failed, 0 RATE_LIMITED`);
  }, 30_000);
});
