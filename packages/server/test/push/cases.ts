/**
 * Web Push cases shared by the memory (push.test.ts) and Redis (push-redis.test.ts) suites: a
 * real server, real sockets, and the push service stand-in of @switchboard/test-utils, which
 * verifies each VAPID signature and decrypts each payload with the subscription's private key.
 */
import { expect, it } from 'vitest';
import { startPushService, type PushServiceHandle, type TestSubscription } from '@switchboard/test-utils';
import type { SwitchboardConfigInput } from '../../src/index.js';
import { getJson, startServer, type TestClient, type TestServer } from '../helpers.js';

export interface PushSetup {
  /** Extra config (e.g. redis); `nodes` > 1 starts a second node on the same store. */
  config(): SwitchboardConfigInput;
  nodes: number;
}

export async function pushWorld(setup: PushSetup, push: SwitchboardConfigInput['push'] = {}, cleanup: (fn: () => Promise<void>) => void) {
  const service = await startPushService();
  cleanup(() => service.close());
  const config = { ...setup.config(), push: { retryBaseMs: 50, allowPrivateEndpoints: true, ...push } };
  const runtime = { pushAgent: service.agent };
  const first = await startServer(config, runtime);
  const servers: TestServer[] = [first];
  // A second node on the same store (Redis): subscriptions made on one, posts from the other.
  for (let i = 1; i < setup.nodes; i++) servers.push(await startServer({ ...config, nodeId: `${String(config.nodeId)}-${i}` }, runtime));
  return { service, servers, first };
}

/** Subscribes `n` stand-in subscriptions for the connection's user; returns them. */
export async function subscribe(client: TestClient, service: PushServiceHandle, n: number): Promise<TestSubscription[]> {
  const subs: TestSubscription[] = [];
  for (let i = 0; i < n; i++) {
    const sub = service.subscription();
    expect(await client.call({ type: 'push_subscribe', subscription: sub.json })).toEqual({ subscriptions: i + 1 });
    subs.push(sub);
  }
  return subs;
}

/** A Prometheus sample of the server, or 0. */
export async function metric(t: TestServer, line: string): Promise<number> {
  const res = await fetch(`${t.url}/metrics`);
  const text = await res.text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.split(' ')[1]) : 0;
}

/** Polls `check` (a condition the server reaches on its own, off the request path) until it holds. */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until `user` has no connection left in the store (a close is processed after the client sees it). */
export async function offline(from: TestClient, user: string): Promise<void> {
  await until(async () => (await from.request({ type: 'post', to: user, message: null })).type === 'error', `${user} to be offline`);
}

export function pushCases(setup: PushSetup, cleanup: (fn: () => Promise<void>) => void): void {
  const world = (push: SwitchboardConfigInput['push'] = {}) => pushWorld(setup, push, cleanup);
  const last = <T>(list: T[]) => list[list.length - 1]!;

  it('a post to an offline user: the ack at once, then one decrypted {title, body} per subscription, VAPID-signed', async () => {
    const { service, servers, first } = await world();
    const bob = await last(servers).connect('bob');
    const { VAPIDPublicKey } = await bob.call({ type: 'push_key' });
    expect(VAPIDPublicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
    const subs = await subscribe(bob, service, 2);
    await bob.close();
    const alice = await first.connect('alice');
    await offline(alice, 'bob');
    const ack = await alice.request({ type: 'post', to: 'bob', message: 'hi', notification: { title: 'Alice', body: 'Are you there?' } });
    expect(ack).toMatchObject({ type: 'ack', result: { delivered: 0 } });
    const got = await service.waitFor(2);
    expect(got.map((p) => p.id).sort()).toEqual(subs.map((s) => s.id).sort());
    for (const p of got) {
      expect(p.payload).toEqual({ title: 'Alice', body: 'Are you there?' });
      expect(p.vapid.publicKey).toBe(VAPIDPublicKey);
      expect(p.vapid.aud).toBe(service.origin);
      expect(p.ttl).toBe(24 * 60 * 60);
    }
    expect(service.rejected).toEqual([]);
    // Without a notification an offline user is still nobody to deliver to.
    expect(await alice.request({ type: 'post', to: 'bob', message: 'hi' })).toMatchObject({ type: 'error', code: 'RECIPIENT_NOT_FOUND' });
  });

  it('a post to a connected user pushes nothing, unless notification.config.always', async () => {
    const { service, servers, first } = await world();
    const bob = await last(servers).connect('bob');
    await subscribe(bob, service, 1);
    const alice = await first.connect('alice');
    const note = (body: string, always?: boolean) => ({ title: 'Alice', body, ...(always === undefined ? {} : { config: { always } }) });
    expect(await alice.call({ type: 'post', to: 'bob', message: 1, notification: note('quiet') })).toEqual({ delivered: 1 });
    expect(await alice.call({ type: 'post', to: 'bob', message: 2, notification: note('quiet too', false) })).toEqual({ delivered: 1 });
    expect(await alice.call({ type: 'post', to: 'bob', message: 3, notification: note('loud', true) })).toEqual({ delivered: 1 });
    // Pushes leave in order: had either quiet post pushed, it would be first.
    const [push] = await service.waitFor(1);
    expect(push!.payload).toEqual({ title: 'Alice', body: 'loud' });
    await bob.sync();
    expect(bob.all('private')).toHaveLength(3);
  });

  it('a 410 from the push service removes that subscription; the others stay', async () => {
    const { service, servers, first } = await world();
    const bob = await last(servers).connect('bob');
    const [gone, kept] = await subscribe(bob, service, 2);
    service.respond(410, gone!.id);
    await bob.close();
    const alice = await first.connect('alice');
    await offline(alice, 'bob');
    await alice.call({ type: 'post', to: 'bob', message: 1, notification: { title: 't', body: 'one' } });
    await service.waitFor(1);
    await until(async () => (await metric(first, 'switchboard_push_failed_total{reason="gone"}')) === 1, 'the 410 to be handled');
    await alice.call({ type: 'post', to: 'bob', message: 2, notification: { title: 't', body: 'two' } });
    const got = await service.waitFor(2);
    expect(got.map((p) => p.id)).toEqual([kept!.id, kept!.id]);
    expect(service.attempts.get(gone!.id)).toBe(1);
    const again = await last(servers).connect('bob');
    expect(await again.call({ type: 'push_unsubscribe', subscription: { endpoint: gone!.json.endpoint } })).toEqual({ removed: false });
    expect(await again.call({ type: 'push_unsubscribe', subscription: kept!.json })).toEqual({ removed: true });
  });

  it('push service down: the post resolves at once, the push is retried and arrives when the service is back', async () => {
    const { service, servers, first } = await world({ retries: 10 });
    const bob = await last(servers).connect('bob');
    await subscribe(bob, service, 1);
    await bob.close();
    await service.down();
    const alice = await first.connect('alice');
    await offline(alice, 'bob');
    const started = Date.now();
    expect(await alice.call({ type: 'post', to: 'bob', message: 1, notification: { title: 't', body: 'later' } })).toEqual({ delivered: 0 });
    expect(Date.now() - started).toBeLessThan(1_000);
    await until(async () => (await metric(first, 'switchboard_push_retries_total')) >= 2, 'two retries');
    expect(await metric(first, 'switchboard_push_queue_length')).toBe(1);
    await service.up();
    const [push] = await service.waitFor(1);
    expect(push!.payload).toEqual({ title: 't', body: 'later' });
    expect(await metric(first, 'switchboard_push_sent_total')).toBe(1);
  });

  it('limits: subscriptions per user, pushes per user per minute, the 3 KB notification; their codes', async () => {
    const { service, servers, first } = await world({ maxSubscriptionsPerUser: 2, perUserPerMinute: 1 });
    const bob = await last(servers).connect('bob');
    const [one] = await subscribe(bob, service, 2);
    const third = await bob.request({ type: 'push_subscribe', subscription: service.subscription().json });
    expect(third).toMatchObject({ type: 'error', code: 'TOO_MANY_SUBSCRIPTIONS' });
    // The same endpoint again replaces it (no new slot).
    expect(await bob.call({ type: 'push_subscribe', subscription: one!.json })).toEqual({ subscriptions: 2 });
    const badKey = { ...one!.json, keys: { ...one!.json.keys, p256dh: 'AAAA' } };
    expect(await bob.request({ type: 'push_subscribe', subscription: badKey })).toMatchObject({ type: 'error', code: 'INVALID_PARAMETER' });
    await bob.close();
    const alice = await first.connect('alice');
    await offline(alice, 'bob');
    const big = { title: 't', body: 'x'.repeat(3072) };
    expect(await alice.request({ type: 'post', to: 'bob', message: 1, notification: big })).toMatchObject({
      type: 'error',
      code: 'INVALID_PARAMETER',
      message: 'Notification size exceeds 3kb.',
    });
    expect(await alice.call({ type: 'post', to: 'bob', message: 1, notification: { title: 't', body: 'first' } })).toEqual({ delivered: 0 });
    expect(await alice.request({ type: 'post', to: 'bob', message: 2, notification: { title: 't', body: 'second' } })).toMatchObject({
      type: 'error',
      code: 'PUSH_RATE_LIMITED',
    });
    await service.waitFor(2);
    expect(service.received.map((p) => p.payload)).toEqual([
      { title: 't', body: 'first' },
      { title: 't', body: 'first' },
    ]);
    expect(await metric(first, 'switchboard_push_dropped_total{reason="rate_limited"}')).toBe(2);
  });

  it('an endpoint belongs to one user: subscribing it as another user moves it', async () => {
    const { service, servers, first } = await world();
    const bob = await last(servers).connect('bob');
    const [sub] = await subscribe(bob, service, 1);
    const carol = await first.connect('carol');
    expect(await carol.call({ type: 'push_subscribe', subscription: sub!.json })).toEqual({ subscriptions: 1 });
    expect(await bob.call({ type: 'push_unsubscribe', subscription: sub!.json })).toEqual({ removed: false });
    await carol.close();
    const alice = await first.connect('alice');
    await offline(alice, 'carol');
    await alice.call({ type: 'post', to: 'carol', message: 1, notification: { title: 'to', body: 'carol' } });
    const [push] = await service.waitFor(1);
    expect(push!.payload).toEqual({ title: 'to', body: 'carol' });
    expect((await getJson(`${first.url}/healthz`)).status).toBe(200);
  });
}
