/**
 * The realtime integration suites (join/notices, post to group/cid/user, listings, rtc relay
 * and call registry, call caps, ringing a user) re-run on a three-node cluster: one real redis-server, three servers,
 * and consecutive clients of every test on different nodes (helpers.ts cluster mode).
 * broadcast.test.ts is not re-run: it spies on one process's sockets (see fanout.test.ts).
 */
import { afterAll } from 'vitest';
import { setClusterMode } from '../helpers.js';
import { describeRedis, redisMissing, startRedis } from './redis.js';

if (redisMissing === null) {
  const redis = await startRedis();
  setClusterMode({ redisUrl: redis.url, nodes: 3 });
  afterAll(() => redis.stop());
  await import('../join.test.js');
  await import('../post.test.js');
  await import('../list.test.js');
  await import('../rtc.test.js');
  await import('../call-caps.test.js');
  await import('../ring-user.test.js');
} else {
  describeRedis('realtime suites across three nodes', () => undefined);
}
