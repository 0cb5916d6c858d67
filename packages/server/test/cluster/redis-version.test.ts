/**
 * Resume's Redis layout needs Redis 7.0 (XADD `0-*`): an older server is refused at start-up with
 * one line naming the `redis` setting; the redis-server the suites run passes.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsRedis7 } from '../../src/cluster/redis-version.js';
import { StartupError } from '../../src/startup-error.js';
import { describeRedis, startRedis, type RedisHandle } from './redis.js';

const reporting = (version: string) => ({ info: async () => `# Server\r\nredis_version:${version}\r\nredis_mode:standalone\r\n` });

describe('the Redis version resume needs', () => {
  it('refuses 6.2 with a StartupError on the redis setting, and says what to do', async () => {
    const refused = needsRedis7(reporting('6.2.14'));
    await expect(refused).rejects.toBeInstanceOf(StartupError);
    await expect(refused).rejects.toMatchObject({
      setting: 'redis',
      message: expect.stringMatching(/^redis: Redis 6\.2\.14 is too old: .*7\.0.*resume\.windowMs to 0/),
    });
  });

  it('refuses a server that does not say its version', async () => {
    await expect(needsRedis7({ info: async () => '# Server\r\n' })).rejects.toMatchObject({ setting: 'redis' });
  });

  it('takes 7.0 and later', async () => {
    for (const version of ['7.0.15', '7.2.4', '8.0.2']) await expect(needsRedis7(reporting(version))).resolves.toBeUndefined();
  });
});

describeRedis('the redis-server of these suites', () => {
  let redis: RedisHandle;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it('is new enough', async () => {
    await expect(needsRedis7(client)).resolves.toBeUndefined();
  });
});
