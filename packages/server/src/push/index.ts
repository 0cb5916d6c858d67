/** Web Push for postRealtime's notification and for other server features (`ctx.push`). */
import type { Agent } from 'node:https';
import type { Registry } from 'prom-client';
import type { SwitchboardConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { createMemoryPushStore } from './memory-store.js';
import { createRedisPushStore } from './redis-store.js';
import { createPushService } from './service.js';
import type { PushService } from './types.js';

export { createPushService } from './service.js';
export { createMemoryPushStore } from './memory-store.js';
export { createRedisPushStore } from './redis-store.js';
export { loadOrCreateVapid, generateVapidKeys, VAPID_FILE } from './vapid.js';
export { pushForOfflinePost, pushAlso } from './post-hooks.js';
export type { NotifyOptions, NotifyOutcome, PushContent, PushService, PushStore, StoredSubscription, VapidKeys } from './types.js';

/** ctx.push for a server: null when push.enabled is false; subscriptions in Redis when the node is in a cluster. */
export function pushFor(
  config: SwitchboardConfig,
  deps: { clustered: boolean; connections(userId: string): Promise<number>; registry: Registry; log: Logger; agent?: Agent | undefined },
): PushService | null {
  if (!config.push.enabled) return null;
  const store =
    deps.clustered && config.redis !== null
      ? createRedisPushStore({ url: config.redis, prefix: config.cluster.prefix, commandTimeoutMs: config.cluster.commandTimeoutMs })
      : createMemoryPushStore();
  return createPushService({ config, store, connections: deps.connections, registry: deps.registry, log: deps.log, agent: deps.agent });
}
