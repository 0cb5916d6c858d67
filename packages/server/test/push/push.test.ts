/** Web Push on a single node (subscriptions in memory); the cases are in cases.ts. */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startPushService } from '@switchboard/test-utils';
import {
  ConfigError,
  createLogger,
  createMemoryPushStore,
  createPushService,
  generateVapidKeys,
  resolveConfig,
  type SwitchboardConfig,
  type SwitchboardConfigInput,
} from '../../src/index.js';
import { Registry } from 'prom-client';
import { startServer, tempDir, useCleanup } from '../helpers.js';
import { pushCases } from './cases.js';

useCleanup();
const later: (() => Promise<void>)[] = [];
const cleanup = (fn: () => Promise<void>) => later.push(fn);

describe('Web Push (memory store)', () => {
  afterEach(async () => {
    for (const fn of later.splice(0).reverse()) await fn();
  });
  pushCases({ config: () => ({}), nodes: 1 }, cleanup);

  it('generates the VAPID pair once, in the data dir (0600), and keeps it across restarts', async () => {
    const dataDir = tempDir();
    const a = await startServer({ dataDir });
    const key = (await (await a.connect('u')).call({ type: 'push_key' })).VAPIDPublicKey as string;
    const file = join(dataDir, 'vapid.json');
    expect(JSON.parse(readFileSync(file, 'utf8')).publicKey).toBe(key);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await a.server.close();
    const b = await startServer({ dataDir });
    expect((await (await b.connect('u')).call({ type: 'push_key' })).VAPIDPublicKey).toBe(key);
    const off = await startServer({ push: { enabled: false } });
    expect(await (await off.connect('u')).request({ type: 'push_key' })).toMatchObject({ type: 'error', code: 'NOT_SUPPORTED' });
  });

  it('config: a half key pair, a bad subject or key name the setting', () => {
    const issue = (push: object) => {
      try {
        resolveConfig({ push } as never);
      } catch (err) {
        return (err as ConfigError).message;
      }
      return 'valid';
    };
    expect(issue({ vapidPublicKey: 'B'.repeat(87) })).toMatch(/^Invalid configuration: push\.vapidPrivateKey: required with the other half/);
    expect(issue({ subject: 'admin@example.com' })).toMatch(/^Invalid configuration: push\.subject: expected a mailto: or https: URL/);
    expect(issue({ vapidPublicKey: 'short', vapidPrivateKey: 'A'.repeat(43) })).toMatch(/push\.vapidPublicKey: expected an 87-character/);
    expect(issue({ previousVapidKeys: ['nope'] })).toMatch(/push\.previousVapidKeys\.0: expected "<publicKey>:<privateKey>"/);
    expect(issue({ perUserPerMinute: -1 })).toMatch(/push\.perUserPerMinute: expected a number between 0 and/);
  });

  it('VAPID rotation: old subscriptions keep their pair from push.previousVapidKeys; without it they are dropped', async () => {
    const service = await startPushService();
    cleanup(() => service.close());
    const [oldPair, newPair] = [generateVapidKeys(), generateVapidKeys()];
    const store = createMemoryPushStore();
    const serviceWith = (push: SwitchboardConfigInput['push']) => {
      const s = createPushService({
        config: resolveConfig({ dataDir: tempDir(), push: { retryBaseMs: 10, allowPrivateEndpoints: true, ...push } }),
        store: { ...store, close: async () => {} }, // one store across "restarts"
        connections: async () => 0,
        registry: new Registry(),
        log: createLogger('silent'),
        agent: service.agent,
      });
      cleanup(() => s.close());
      return s;
    };
    const before = serviceWith({ vapidPublicKey: oldPair.publicKey, vapidPrivateKey: oldPair.privateKey });
    const sub = service.subscription();
    await before.subscribe('erin', sub.json);
    const after = serviceWith({
      vapidPublicKey: newPair.publicKey,
      vapidPrivateKey: newPair.privateKey,
      previousVapidKeys: [`${oldPair.publicKey}:${oldPair.privateKey}`],
    });
    expect(await after.publicKey()).toBe(newPair.publicKey);
    await after.notifyUser('erin', { title: 'old', body: 'key' });
    await after.idle();
    expect(service.received.map((p) => p.vapid.publicKey)).toEqual([oldPair.publicKey]);
    const fresh = service.subscription();
    await after.subscribe('erin', fresh.json);
    const later = serviceWith({ vapidPublicKey: newPair.publicKey, vapidPrivateKey: newPair.privateKey, queueSize: 1 });
    // queueSize 1: the second push is dropped (and counted); the first, to the old subscription, finds
    // no pair for its key and drops that subscription without asking the push service.
    expect(await later.notifyUser('erin', { title: 'new', body: 'key' })).toEqual({ queued: 1 });
    await later.idle();
    expect((await store.list('erin')).map((s) => s.endpoint)).toEqual([fresh.json.endpoint]);
    expect(await later.notifyUser('erin', { title: 'new', body: 'key' })).toEqual({ queued: 1 });
    await later.idle();
    expect(service.received.slice(1).map((p) => [p.id, p.vapid.publicKey])).toEqual([[fresh.id, newPair.publicKey]]);
    expect(service.attempts.get(sub.id)).toBe(1);
  });

  it('ctx.push.notifyUser: data rides along; connected users are skipped unless always; too large is refused', async () => {
    const service = await startPushService();
    cleanup(() => service.close());
    const config: SwitchboardConfig = resolveConfig({ dataDir: tempDir(), push: { retryBaseMs: 10, allowPrivateEndpoints: true } });
    let online = 0;
    const push = createPushService({
      config,
      store: createMemoryPushStore(),
      connections: async () => online,
      registry: new Registry(),
      log: createLogger('silent'),
      agent: service.agent,
    });
    cleanup(() => push.close());
    const sub = service.subscription();
    expect(await push.subscribe('dora', sub.json)).toBe(1);
    expect(await push.notifyUser('nobody', { title: 't', body: 'b' })).toEqual({ queued: 0, skipped: 'no_subscriptions' });
    expect(await push.notifyUser('dora', { title: 'Call', body: 'Alice is calling', data: { call: 'c1' } })).toEqual({ queued: 1 });
    online = 1;
    expect(await push.notifyUser('dora', { title: 't', body: 'b' })).toEqual({ queued: 0, skipped: 'connected' });
    expect(await push.notifyUser('dora', { title: 't', body: 'x'.repeat(4000) }, { always: true })).toEqual({ queued: 0, code: 'PAYLOAD_TOO_LARGE' });
    expect(await push.notifyUser('dora', { title: 'again', body: 'b' }, { always: true })).toEqual({ queued: 1 });
    await push.idle();
    expect(service.received.map((p) => p.payload)).toEqual([
      { title: 'Call', body: 'Alice is calling', data: { call: 'c1' } },
      { title: 'again', body: 'b' },
    ]);
  });
});
