/**
 * Per-connection call caps on real sockets: ringing calls placed (maxRingingCalls) and active
 * calls on either side (maxActiveCalls), refused with TOO_MANY_CALLS and freed again by
 * hangup, reject and disconnect. Re-run on a three-node cluster (Redis store) by
 * cluster/cross-node.test.ts. The stale-ringing rule is checked on the registry with a clock.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/index.js';
import { createCallRegistry, RING_STALE_MS } from '../src/rtc/call-registry.js';
import type { ConnectionRecord } from '../src/state/store.js';
import { join, startServer, useCleanup, type TestClient, type TestServer } from './helpers.js';

useCleanup();

interface Peer {
  client: TestClient;
  cid: string;
}

async function peers(t: TestServer, count: number, prefix: string): Promise<Peer[]> {
  const out: Peer[] = [];
  for (let i = 0; i < count; i++) {
    const client = await t.connect(`${prefix}${i}`);
    await join(client, 'room');
    out.push({ client, cid: (await client.welcome).cid as string });
  }
  return out;
}

const signal = (from: Peer, to: Peer, call: string, kind: string, extra: Record<string, unknown> = {}) =>
  from.client.request({ type: 'rtc', to: to.cid, call, signal: { kind, ...extra } });

async function ok(reply: Promise<Record<string, unknown>>): Promise<void> {
  const frame = await reply;
  expect(frame, JSON.stringify(frame)).toMatchObject({ type: 'ack' });
}

async function refused(reply: Promise<Record<string, unknown>>, message: RegExp): Promise<void> {
  const frame = await reply;
  expect(frame).toMatchObject({ type: 'error', code: 'TOO_MANY_CALLS' });
  expect(frame['message']).toMatch(message);
}

/** caller invites, callee accepts: an active call. */
async function connect(caller: Peer, callee: Peer, call: string): Promise<void> {
  await ok(signal(caller, callee, call, 'invite'));
  await ok(signal(callee, caller, call, 'accept'));
}

describe('active call cap (limits.maxActiveCalls)', () => {
  it('defaults to 8, next to maxRingingCalls, and is not announced in welcome', async () => {
    const t = await startServer();
    expect(t.server.config.limits).toMatchObject({ maxActiveCalls: 8, maxRingingCalls: 8 });
    const client = await t.connect('solo');
    expect((await client.welcome).limits).not.toHaveProperty('maxActiveCalls');
  });

  it('a callee at the cap cannot accept another call; a hangup frees a place', async () => {
    const t = await startServer({ limits: { maxActiveCalls: 2 } });
    const [callee, a, b, c] = await peers(t, 4, 'u');
    await connect(a!, callee!, 'ca');
    await connect(b!, callee!, 'cb');
    await ok(signal(c!, callee!, 'cc', 'invite')); // ringing is fine: the callee is not active in it yet
    await refused(signal(callee!, c!, 'cc', 'accept'), /at most 2/);
    await ok(signal(a!, callee!, 'ca', 'hangup'));
    await ok(signal(callee!, c!, 'cc', 'accept'));
    // Signals keep flowing on the active calls.
    await ok(c!.client.request({ type: 'rtc', to: callee!.cid, call: 'cc', signal: { kind: 'candidate', candidate: null } }));
  });

  it('a caller at the cap cannot invite; a callee cannot accept a call whose caller reached the cap meanwhile', async () => {
    const t = await startServer({ limits: { maxActiveCalls: 2 } });
    const [caller, x, y, z] = await peers(t, 4, 'v');
    await ok(signal(caller!, x!, 'cx', 'invite'));
    await ok(signal(caller!, y!, 'cy', 'invite'));
    await ok(signal(caller!, z!, 'cz', 'invite'));
    await ok(signal(x!, caller!, 'cx', 'accept'));
    await ok(signal(y!, caller!, 'cy', 'accept'));
    await refused(signal(z!, caller!, 'cz', 'accept'), /caller already has 2 active calls/);
    await refused(signal(caller!, x!, 'again', 'invite'), /Too many active calls: at most 2/);
    // Ending an active call frees a place for the call still ringing.
    await ok(signal(caller!, x!, 'cx', 'hangup'));
    await ok(signal(z!, caller!, 'cz', 'accept'));
    await refused(signal(caller!, x!, 'again', 'invite'), /at most 2/);
  });

  it('a connection that goes away frees its place on the other side', async () => {
    const t = await startServer({ limits: { maxActiveCalls: 1 } });
    const [callee, a, b] = await peers(t, 3, 'w');
    await connect(a!, callee!, 'first');
    await ok(signal(b!, callee!, 'second', 'invite'));
    await refused(signal(callee!, b!, 'second', 'accept'), /at most 1/);
    await a!.client.close();
    await callee!.client.waitFor((f) => f.type === 'rtc' && f['call'] === 'first' && f['signal'].kind === 'hangup');
    await ok(signal(callee!, b!, 'second', 'accept'));
  });
});

describe('ringing call cap (limits.maxRingingCalls)', () => {
  it('counts only calls still ringing: accepted, rejected and cancelled ones leave the count', async () => {
    const t = await startServer({ limits: { maxRingingCalls: 2, maxActiveCalls: 4 } });
    const [caller, x, y] = await peers(t, 3, 'r');
    await ok(signal(caller!, x!, 'r1', 'invite'));
    await ok(signal(caller!, y!, 'r2', 'invite'));
    await refused(signal(caller!, x!, 'r3', 'invite'), /Too many ringing calls: at most 2/);
    await ok(signal(x!, caller!, 'r1', 'accept'));
    await ok(signal(caller!, x!, 'r3', 'invite'));
    await ok(signal(y!, caller!, 'r2', 'reject', { reason: 'busy' }));
    await ok(signal(caller!, y!, 'r4', 'invite'));
    await refused(signal(caller!, y!, 'r5', 'invite'), /ringing/);
    // A repeated invite changes nothing; a cancelled call leaves the count.
    await ok(signal(caller!, y!, 'r4', 'invite'));
    await ok(signal(caller!, y!, 'r4', 'hangup', { reason: 'cancelled' }));
    await ok(signal(caller!, y!, 'r5', 'invite'));
  });
});

describe('stale ringing calls', () => {
  const conn = (cid: string): ConnectionRecord => ({ cid, user: { user_id: cid, name: null }, node: 'n', connectedAt: 0, group: 'g' });

  it('a ringing call older than RING_STALE_MS makes room at the cap and is forgotten', async () => {
    const store = createMemoryStore();
    let clock = 1_000_000;
    const calls = createCallRegistry(store, { maxRingingCalls: 2, maxActiveCalls: 2, now: () => clock });
    const [a, b] = [conn('cid:a'), conn('cid:b')];
    await calls.onSignal(a, b, 'old', { kind: 'invite' });
    clock += RING_STALE_MS / 2;
    await calls.onSignal(a, b, 'newer', { kind: 'invite' });
    await expect(calls.onSignal(a, b, 'third', { kind: 'invite' })).rejects.toMatchObject({ code: 'TOO_MANY_CALLS' });
    clock += RING_STALE_MS / 2 + 1; // 'old' is now stale, 'newer' is not
    await calls.onSignal(a, b, 'third', { kind: 'invite' });
    expect(await store.getCall('old', 'cid:a', 'cid:b')).toBeNull();
    expect(await store.getCall('newer', 'cid:a', 'cid:b')).not.toBeNull();
    expect(await store.callCounts('cid:a')).toEqual({ ringing: 2, active: 0 });
    await expect(calls.onSignal(a, b, 'fourth', { kind: 'invite' })).rejects.toMatchObject({ code: 'TOO_MANY_CALLS' });
  });
});
