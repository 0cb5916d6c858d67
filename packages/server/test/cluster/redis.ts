/**
 * A real redis-server for the cluster suites (@switchboard/test-utils' startRedis), and the
 * require-or-skip rule: locally a missing redis-server skips; under CI=true it fails.
 */
import { describe } from 'vitest';
import { requireOrSkip, startRedis, type RedisHandle } from '@switchboard/test-utils';

export { startRedis, type RedisHandle };

export const redisMissing: string | null = requireOrSkip('redis');

/** describe(), or describe.skip with the reason when redis-server is missing (throws under CI=true). */
export function describeRedis(title: string, body: () => void): void {
  if (redisMissing === null) describe(title, body);
  else describe.skip(`${title} [skipped: ${redisMissing}]`, body);
}
