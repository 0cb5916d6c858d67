/**
 * createPushService: `ctx.push`, the server-side Web Push API. Subscriptions live in the store
 * (memory, or Redis in a cluster); pushes go through the bounded, retrying queue (queue.ts).
 */
import type { Agent } from 'node:https';
import type { Registry } from 'prom-client';
import type { SwitchboardConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { RequestError } from '../request-error.js';
import { PushQueue } from './queue.js';
import { endpointRefusal, publicOnlyAgent } from './endpoint-guard.js';
import { createSender } from './send.js';
import type { NotifyOutcome, PushService, PushStore } from './types.js';
import { createKeyring } from './vapid.js';

export interface PushDeps {
  config: Pick<SwitchboardConfig, 'push' | 'dataDir' | 'limits'>;
  store: PushStore;
  /** Open connections of a user, anywhere in the cluster. */
  connections(userId: string): Promise<number>;
  registry: Registry;
  log: Logger;
  /** An https.Agent for the requests to push services (a private CA, a proxy agent). */
  agent?: Agent | undefined;
}

export function createPushService(deps: PushDeps): PushService {
  const { config, store, log } = deps;
  const settings = config.push;
  const keyring = createKeyring(settings, config.dataDir, store);
  const agent = deps.agent ?? (settings.allowPrivateEndpoints ? undefined : publicOnlyAgent());
  const { subject, ttlSeconds, timeoutMs, allowPrivateEndpoints } = settings;
  const send = createSender({ subject, ttlSeconds, timeoutMs, agent, allowPrivateEndpoints }, keyring);
  const queue = new PushQueue(settings, {
    send,
    gone: async (job) => void (await store.remove(job.userId, job.subscription.endpoint)),
    registry: deps.registry,
    log,
  });

  // Store failures (Redis unreachable) become the retryable SERVER_UNAVAILABLE the other requests answer.
  const guard = async <T>(op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (err) {
      if (err instanceof RequestError) throw err;
      log.warn({ err: (err as Error).message }, 'push: store failure');
      throw new RequestError('SERVER_UNAVAILABLE', 'The push subscription store is unreachable; retry shortly.');
    }
  };

  return {
    publicKey: () => guard(async () => (await keyring.current()).publicKey),
    subscribe: (userId, subscription) =>
      guard(async () => {
        const refusal = endpointRefusal(subscription.endpoint, settings.allowPrivateEndpoints);
        if (refusal) throw new RequestError('INVALID_PARAMETER', `"subscription.endpoint" ${refusal}.`);
        checkKeys(subscription.keys);
        const vapid = (await keyring.current()).publicKey;
        const { endpoint, keys } = subscription;
        const count = await store.add(userId, { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth }, vapid }, settings.maxSubscriptionsPerUser);
        if (count === 'full') {
          throw new RequestError(
            'TOO_MANY_SUBSCRIPTIONS',
            `At most ${settings.maxSubscriptionsPerUser} push subscriptions per user; unsubscribe one with unsubscribeNotification() first.`,
          );
        }
        return count;
      }),
    unsubscribe: (userId, endpoint) => guard(() => store.remove(userId, endpoint)),
    async notifyUser(userId, content, options = {}): Promise<NotifyOutcome> {
      const payload = JSON.stringify(content.data === undefined ? { title: content.title, body: content.body } : content);
      if (Buffer.byteLength(payload) > config.limits.maxNotificationBytes) return { queued: 0, code: 'PAYLOAD_TOO_LARGE' };
      return guard(async () => {
        if (!options.always && (await deps.connections(userId)) > 0) return { queued: 0, skipped: 'connected' as const };
        const subscriptions = await store.list(userId);
        if (subscriptions.length === 0) return { queued: 0, skipped: 'no_subscriptions' as const };
        if (settings.perUserPerMinute > 0 && !(await store.take(userId, settings.perUserPerMinute))) {
          queue.metrics.dropped.inc({ reason: 'rate_limited' }, subscriptions.length);
          return { queued: 0, code: 'PUSH_RATE_LIMITED' as const };
        }
        const queued = queue.add(subscriptions.map((subscription) => ({ userId, subscription, payload, attempt: 0 })));
        return queued === 0 ? { queued, skipped: 'queue_full' as const } : { queued };
      });
    },
    queueLength: () => queue.length,
    idle: () => queue.idle(),
    async close() {
      queue.close();
      if (agent !== deps.agent) agent?.destroy();
      await store.close();
    },
  };
}

/** The keys must be what a browser makes, else web-push throws at every push: say so at subscribe. */
function checkKeys(keys: { p256dh: string; auth: string }): void {
  const p256dh = Buffer.from(keys.p256dh, 'base64url');
  if (p256dh.length !== 65 || p256dh[0] !== 0x04) {
    throw new RequestError('INVALID_PARAMETER', '"subscription.keys.p256dh" must be an uncompressed P-256 public key (65 bytes, base64url).');
  }
  if (Buffer.from(keys.auth, 'base64url').length !== 16) {
    throw new RequestError('INVALID_PARAMETER', '"subscription.keys.auth" must be a 16-byte secret (base64url).');
  }
}
