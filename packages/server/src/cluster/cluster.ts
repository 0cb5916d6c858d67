/**
 * createRedisCluster: the Redis adapter of a node. Two ioredis connections (commands, and
 * the subscriber of this node's channel), the Store (redis-store.ts), the Delivery (bus.ts)
 * and node membership (membership.ts), sharing one LocalIndex of this node's connections.
 *
 * Failure policy: commands never queue while Redis is away (enableOfflineQueue: false) and
 * time out after `commandTimeoutMs`; a Redis that stalls with its connection open is noticed
 * by health.ts, and while it is, nothing is sent: requests answer SERVER_UNAVAILABLE at once.
 * ioredis reconnects forever (backoff up to 2 s) and each reconnect triggers a resync.
 */
import type { Redis } from 'ioredis';
import { ioredisLib } from '../optional-libs.js';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { createRedisReplayStore, type ReplayLimits, type ReplayStore } from '../resume/index.js';
import { redactUrl } from '../redact.js';
import { StartupError } from '../startup-error.js';
import { needsRedis7 } from './redis-version.js';
import type { Delivery } from '../state/delivery.js';
import { createBus } from './bus.js';
import { RedisHealth } from './health.js';
import { clusterKeys } from './keys.js';
import { LocalIndex } from './local-index.js';
import { Membership, type MembershipHooks } from './membership.js';
import { createRedisStore, type RedisStore } from './redis-store.js';
import { RouteCache, type RouteEvent } from './routes.js';
import { defineScripts } from './scripts.js';

export interface RedisClusterOptions {
  url: string;
  node: string;
  prefix: string;
  heartbeatMs: number;
  nodeTimeoutMs: number;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** How often Redis is asked PING to notice a stall (1000 by default); no answer within min(commandTimeoutMs, this) is one. */
  probeIntervalMs?: number;
  log: Logger;
  registry: Registry;
  /** Resume on (resume.windowMs > 0): the replay store lives in this Redis. */
  replay?: ReplayLimits | null;
}

/** Redis could not be reached when the node started. `message` names the URL, password hidden. */
export class ClusterStartError extends Error {
  readonly code = 'REDIS_UNREACHABLE';
  constructor(
    readonly url: string,
    cause: string,
  ) {
    super(`Cannot reach Redis at ${url}: ${cause}`);
    this.name = 'ClusterStartError';
  }
}

export interface RedisCluster {
  readonly store: RedisStore;
  readonly delivery: Delivery;
  /** The replay store in Redis (null when resume is off). */
  readonly replay: ReplayStore | null;
  /** A cid resumed on this node: mirror its record locally; tell its previous node (if another) to let go. */
  adopt(cid: string, previousNode: string | null): Promise<void>;
  /** The URL with its password hidden (for logs and errors). */
  readonly url: string;
  bind(hooks: MembershipHooks): void;
  /** Connects, subscribes and registers the node; rejects with ClusterStartError. Idempotent. */
  start(): Promise<void>;
  /** Whether Redis is connected and answers (false while it is stalled, see health.ts). */
  up(): boolean;
  /** Stops heartbeating; with `leave`, removes the node from Redis (after its connections closed). */
  close(leave?: boolean): Promise<void>;
}

function connection(url: string, o: RedisClusterOptions, name: string, pipelined = false): Redis {
  return new (ioredisLib().Redis)(url, {
    connectionName: name,
    // Commands issued in one tick (the scripts and publishes of every frame a tick routes, the
    // request log) leave in one write instead of one syscall each.
    enableAutoPipelining: pipelined,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: o.commandTimeoutMs,
    connectTimeout: Math.min(o.connectTimeoutMs, 10_000),
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
  });
}

export function createRedisCluster(o: RedisClusterOptions): RedisCluster {
  const url = redactUrl(o.url);
  const keys = clusterKeys(o.prefix);
  const local = new LocalIndex();
  const routes = new RouteCache();
  const redis = defineScripts(connection(o.url, o, `switchboard:${o.node}`, true));
  const sub = connection(o.url, o, `switchboard:${o.node}:sub`);
  const published = new Counter({
    name: 'switchboard_cluster_published_total',
    help: 'Frames published to other nodes (one per node, not per recipient), by kind (group, direct).',
    labelNames: ['kind'] as const,
    registers: [o.registry],
  });
  const received = new Counter({
    name: 'switchboard_cluster_received_total',
    help: 'Frames received from other nodes, by kind (group, direct).',
    labelNames: ['kind'] as const,
    registers: [o.registry],
  });
  const reaped = new Counter({
    name: 'switchboard_cluster_reaped_connections_total',
    help: 'Connections of dead nodes this node disconnected.',
    registers: [o.registry],
  });

  let ready = false;
  let closed = false;
  const health = new RedisHealth({
    redis,
    url,
    probeIntervalMs: o.probeIntervalMs ?? 1_000,
    commandTimeoutMs: o.commandTimeoutMs,
    log: o.log,
    registry: o.registry,
    // The connection stayed open: nothing was lost in transit; beat now and write back what failed.
    onRecovered: () => void membership.tick(),
  });
  const onFailure = (err: unknown) => health.failure(err);
  const stalled = () => health.isDown();
  const store = createRedisStore({
    redis,
    keys,
    node: o.node,
    local,
    // Other nodes' connections are learned on demand and kept current by the routes channel.
    rememberNode: () => undefined,
    forgetNode: (cid) => routes.forget(cid),
    lookup: (cid, load) => routes.record(cid, load),
    onFailure,
    stalled,
  });
  const replay = o.replay ? createRedisReplayStore({ redis, prefix: o.prefix, node: o.node, limits: o.replay, onFailure, stalled }) : null;
  const groupRoutes = (group: string) =>
    routes.group(group, async () => {
      const flat = await redis.sbGroupRoutes(o.prefix, group);
      const pairs: Array<[string, string]> = [];
      for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
      return pairs;
    });
  const bus = createBus({
    redis,
    keys,
    node: o.node,
    local,
    routes,
    groupRoutes,
    lookup: (cid) => store.getConnection(cid),
    published,
    received,
    onFailure,
    stalled,
    replay,
  });
  const membership = new Membership({
    redis,
    keys,
    node: o.node,
    local,
    store,
    heartbeatMs: o.heartbeatMs,
    nodeTimeoutMs: o.nodeTimeoutMs,
    log: o.log,
    onReaped: (_node, n) => reaped.inc(n),
    stalled,
  });

  let started: Promise<void> | null = null;
  let lastError = 'no answer';

  redis.on('error', (err: Error) => {
    lastError = err.message;
    // Connection errors: the 'close' that follows is the change of state worth a warn.
    o.log.debug({ redis: url, err: err.message }, 'cluster: Redis connection error');
  });
  sub.on('error', (err: Error) => {
    lastError = err.message;
  });
  // Route events published while the subscriber was away are lost: start the cache afresh.
  sub.on('close', () => routes.clear());
  sub.on('ready', () => routes.clear());
  // Auto-pipelining only while connected: a batch formed while the connection is down fails
  // as a whole inside ioredis, where its rejections are not all handled.
  redis.on('close', () => {
    redis.options.enableAutoPipelining = false;
    if (!closed) health.disconnected();
  });
  redis.on('ready', () => {
    redis.options.enableAutoPipelining = true;
    // Redis may have lost data while away (restart): entries nobody re-registers would stay cached.
    routes.clear();
    // A new connection: writes in flight when the old one dropped may be lost; re-register everything.
    if (health.connected() && ready && !closed) membership.onReconnected();
  });
  const routesChannel = Buffer.from(keys.routes);
  sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
    if (!channel.equals(routesChannel)) return bus.receive(message);
    let event: RouteEvent | { d: string };
    try {
      event = JSON.parse(message.toString('utf8')) as RouteEvent | { d: string };
    } catch {
      return;
    }
    if ('d' in event) routes.dropNode(event.d);
    else routes.apply(event);
  });

  async function start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ClusterStartError(url, lastError)), o.connectTimeoutMs);
    });
    try {
      // connect() rejects on the first refusal, but ioredis keeps retrying: wait for 'ready' (or the deadline).
      const readyOf = (c: Redis) => (c.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => c.once('ready', () => resolve())));
      const both = Promise.all([readyOf(redis), readyOf(sub)]);
      redis.connect().catch(() => undefined);
      sub.connect().catch(() => undefined);
      await Promise.race([both, deadline]);
      await Promise.race([sub.subscribe(keys.channel(o.node), keys.routes), deadline]);
      if (o.replay) await Promise.race([needsRedis7(redis), deadline]);
      await Promise.race([membership.start(), deadline]);
    } catch (err) {
      redis.disconnect();
      sub.disconnect();
      if (err instanceof StartupError) throw err;
      throw err instanceof ClusterStartError ? err : new ClusterStartError(url, (err as Error).message ?? String(err));
    } finally {
      clearTimeout(timer);
    }
    ready = true;
    health.start();
    o.log.info({ redis: url, node: o.node }, 'cluster: node registered');
  }

  return {
    store,
    delivery: bus,
    replay,
    async adopt(cid, previousNode) {
      const record = await store.getConnection(cid);
      if (record) local.add({ ...record, node: o.node });
      routes.forget(cid);
      if (previousNode !== null && previousNode !== o.node) await bus.takeover(previousNode, cid);
    },
    url,
    bind: (hooks) => membership.bind(hooks),
    start: () => (started ??= start()),
    up: () => health.isUp(),
    async close(leave = true) {
      if (closed) return;
      closed = true;
      const reachable = health.isUp();
      health.stop();
      await membership.stop(leave && ready && reachable).catch((err: unknown) => {
        o.log.warn({ err: (err as Error).message }, 'cluster: could not leave cleanly');
      });
      redis.disconnect();
      sub.disconnect();
    },
  };
}
