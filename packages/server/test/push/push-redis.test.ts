/**
 * Web Push in a cluster: two nodes on a private redis-server, subscriptions made on one node,
 * posts from the other; "offline" means no connection on any node. Cases in cases.ts.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeRedis, startRedis, type RedisHandle } from '../cluster/redis.js';
import { startServer, useCleanup } from '../helpers.js';
import { offline, pushCases, pushWorld, subscribe } from './cases.js';

useCleanup();
const later: (() => Promise<void>)[] = [];
const cleanup = (fn: () => Promise<void>) => later.push(fn);
let redis: RedisHandle;
let run = 0;

describeRedis('Web Push (Redis store, two nodes)', () => {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const fn of later.splice(0).reverse()) await fn();
  });
  const setup = {
    nodes: 2,
    config: () => {
      const prefix = `push${++run}:`;
      return { redis: redis.url, nodeId: `${prefix}n`, cluster: { prefix } };
    },
  };
  pushCases(setup, cleanup);

  it('every node hands out the same generated VAPID key; a user connected on the other node gets no push', async () => {
    const { service, servers } = await pushWorld(setup, {}, cleanup);
    const [one, two] = servers as [Awaited<ReturnType<typeof startServer>>, Awaited<ReturnType<typeof startServer>>];
    const bob = await two.connect('bob');
    const alice = await one.connect('alice');
    const keys = [await alice.call({ type: 'push_key' }), await bob.call({ type: 'push_key' })];
    expect(keys[0]).toEqual(keys[1]);
    await subscribe(bob, service, 1);
    expect(await alice.call({ type: 'post', to: 'bob', message: 1, notification: { title: 't', body: 'quiet' } })).toEqual({ delivered: 1 });
    await bob.close();
    await offline(alice, 'bob');
    expect(await alice.call({ type: 'post', to: 'bob', message: 2, notification: { title: 't', body: 'now' } })).toEqual({ delivered: 0 });
    const [push] = await service.waitFor(1);
    expect(push!.payload).toEqual({ title: 't', body: 'now' });
  });
});
