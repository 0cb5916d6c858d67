/**
 * Lua scripts as connection methods (src/cluster/lua.ts) on a real redis-server, with
 * auto-pipelining on as the cluster runs it: replies in both encodings, the call order kept for
 * a script's first call, and a script Redis forgot (SCRIPT FLUSH, as after a restart) sent again.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addLuaCommands } from '../../src/cluster/lua.js';
import { describeRedis, startRedis, type RedisHandle } from './redis.js';

interface TestScripts {
  append(...args: string[]): Promise<number>;
  read(...args: string[]): Promise<string[]>;
  readBuffer(...args: string[]): Promise<Buffer[]>;
}

const scripts = {
  append: `return redis.call('RPUSH', ARGV[1], ARGV[2])`,
  read: `return redis.call('LRANGE', ARGV[1], 0, -1)`,
};

describeRedis('Lua commands', () => {
  let server: RedisHandle;
  let redis: Redis & TestScripts;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedis();
    redis = addLuaCommands<TestScripts>(new Redis(server.url, { enableAutoPipelining: true }), scripts, ['read']);
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    admin?.disconnect();
    await server?.stop();
  });

  it('runs in call order, first calls included, with string or Buffer replies', async () => {
    const [first, second, read, readBuffer] = await Promise.all([
      redis.append('l:order', 'a'),
      redis.append('l:order', 'b'),
      redis.read('l:order'),
      redis.readBuffer('l:order'),
    ]);
    expect([first, second]).toEqual([1, 2]);
    expect(read).toEqual(['a', 'b']);
    expect(readBuffer).toEqual([Buffer.from('a'), Buffer.from('b')]);
  });

  it('a script Redis no longer has (SCRIPT FLUSH, a restart) is sent again', async () => {
    await redis.append('l:flush', 'x');
    await admin.script('FLUSH');
    expect(await redis.append('l:flush', 'y')).toBe(2);
    expect(await redis.read('l:flush')).toEqual(['x', 'y']);
  });

  it('adds nothing to the pipelines ioredis makes (it copies defineCommand scripts onto each)', () => {
    expect(Object.keys(redis.scriptsSet)).toEqual([]);
  });
});
