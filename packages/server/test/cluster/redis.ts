/**
 * A real redis-server for the cluster suites (@switchboard/test-utils' startRedis), and the
 * require-or-skip rule: locally a missing redis-server skips; under CI=true it fails.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { requireOrSkip, startRedis, type RedisHandle } from '@switchboard/test-utils';
import { setClusterMode } from '../helpers.js';

export { startRedis, type RedisHandle };

export const redisMissing: string | null = requireOrSkip('redis');

/** describe(), or describe.skip with the reason when redis-server is missing (throws under CI=true). */
export function describeRedis(title: string, body: () => void): void {
  if (redisMissing === null) describe(title, body);
  else describe.skip(`${title} [skipped: ${redisMissing}]`, body);
}

/**
 * In a describeRedis block: a redis-server for the block, and startServer() starting `nodes` nodes
 * on it (cluster mode), both undone after the block. `redis` is set once the block's tests run.
 */
export function useRedisCluster(nodes: number): { readonly redis: RedisHandle } {
  const cluster: { redis?: RedisHandle } = {};
  beforeAll(async () => {
    cluster.redis = await startRedis();
    setClusterMode({ redisUrl: cluster.redis.url, nodes });
  });
  afterAll(async () => {
    setClusterMode(null);
    await cluster.redis?.stop();
  });
  return {
    get redis() {
      if (cluster.redis === undefined) throw new Error('useRedisCluster: redis is started by the block’s beforeAll');
      return cluster.redis;
    },
  };
}
