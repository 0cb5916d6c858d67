/**
 * Libraries only some servers use, loaded on first use instead of with every server: ioredis (a
 * cluster, or push subscriptions in Redis) and web-push (the first push, or VAPID keys made).
 * With `selfsigned`, imported where a certificate is generated (http/tls.ts), they held 3.8 MB of
 * a started server's 13 MB of V8 heap, which every full collection marks again. Both are
 * CommonJS, so a require serves the callers that cannot wait for an import.
 */
import { createRequire } from 'node:module';
import type * as IORedis from 'ioredis';
import type * as WebPush from 'web-push';

const load = createRequire(import.meta.url);
let ioredis: typeof IORedis | undefined;
let webPush: typeof WebPush | undefined;

export const ioredisLib = (): typeof IORedis => (ioredis ??= load('ioredis') as typeof IORedis);
export const webPushLib = (): typeof WebPush => (webPush ??= load('web-push') as typeof WebPush);
