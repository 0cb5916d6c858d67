import type { Redis } from 'ioredis';
import { StartupError } from '../startup-error.js';

/**
 * The replay store numbers a cid's frames with XADD's `<ms>-*` ids, new in Redis 7.0: with resume
 * on, an older Redis is refused at start-up in one line instead of failing every post later.
 */
export async function needsRedis7(redis: Pick<Redis, 'info'>): Promise<void> {
  const version = /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1] ?? '';
  if (Number(version.split('.')[0]) >= 7) return;
  throw new StartupError('redis', `Redis ${version || '(version unknown)'} is too old: resume needs Redis 7.0 or newer (or set resume.windowMs to 0)`);
}
