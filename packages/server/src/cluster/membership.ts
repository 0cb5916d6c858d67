/**
 * Node membership: every `cluster.heartbeatMs` a node writes its heartbeat (Redis clock) to
 * the `nodes` sorted set, then looks for nodes whose heartbeat is older than
 * `cluster.nodeTimeoutMs`. One survivor claims each dead node (a lock that expires, so a
 * survivor dying mid-way is replaced), disconnects its connections as if their sockets had
 * closed (USER_DISCONNECTED to their groups, peer_gone/cancelled to their calls), then forgets
 * the node and leaves a tombstone.
 *
 * Recovery: after a reconnect to Redis, or when its heartbeat entry is missing (Redis restarted
 * empty), a node re-registers its live connections and memberships from its LocalIndex at once;
 * `nodeTimeoutMs` later (when every live node has re-registered its members too) it announces
 * the connections that closed while Redis was away and drops entries of its own that are no
 * longer live. A node that finds its tombstone was declared dead while it was cut off: its users
 * were announced as gone, so it closes every connection with NODE_LOST (4003) and the clients
 * reconnect and rejoin.
 *
 * With resume on, a connection whose socket vanished with its node (or that a restarted node
 * finds in its old entries) is not disconnected but marked away (`gone`): its client may resume
 * on another node within the window, and the sweep disconnects it after that.
 *
 * A node only reaps others after its own heartbeats have succeeded without a gap for
 * `nodeTimeoutMs`: after a Redis outage or stall (restart, failover, SIGSTOP, a slow disk)
 * every node's heartbeat is stale at once, and the first one back must give the others that
 * long to write theirs before it judges them.
 */
import type { Logger } from '../logger.js';
import type { ConnectionRecord } from '../state/store.js';
import type { ClusterKeys } from './keys.js';
import type { LocalIndex } from './local-index.js';
import type { RedisStore } from './redis-store.js';
import type { ScriptedRedis } from './scripts.js';

export interface MembershipHooks {
  /** A connection is gone (its node died, or it closed while Redis was away): disconnect it cluster-wide. */
  reap(cid: string, fallback?: ConnectionRecord): Promise<void>;
  /** This node was declared dead while cut off from Redis: close every connection (NODE_LOST). */
  nodeLost(): void;
  /** A connection whose socket is gone unseen (dead node, leftover): away if resumable, else reap. */
  gone?(cid: string): Promise<void>;
}

export interface MembershipOptions {
  redis: ScriptedRedis;
  keys: ClusterKeys;
  node: string;
  local: LocalIndex;
  store: RedisStore;
  heartbeatMs: number;
  nodeTimeoutMs: number;
  log: Logger;
  onReaped(node: string, connections: number): void;
  /** Redis is known not to answer (health.ts): skip the heartbeat rather than wait for its timeout. */
  stalled(): boolean;
}

const BATCH = 200;
const REAP_PARALLEL = 32;

export class Membership {
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<boolean> | null = null;
  private working: Promise<void> | null = null;
  private resyncNeeded = false;
  /** A resync happened: orphans and stale entries are to be announced once everyone re-registered. */
  private settlePending = false;
  /** Since when this node's heartbeats have succeeded without a gap (null: the last one failed). */
  private healthySince: number | null = null;
  private lastBeat = 0;
  private hooks: MembershipHooks | null = null;
  private stopped = false;

  constructor(private readonly o: MembershipOptions) {}

  bind(hooks: MembershipHooks): void {
    this.hooks = hooks;
  }

  /** First registration: clears a tombstone of an earlier life and reaps leftovers of a previous process with this id. */
  async start(): Promise<void> {
    const { redis, keys, node } = this.o;
    await redis.del(`${keys.prefix}reaped:${node}`);
    await redis.sbHeartbeat(keys.prefix, node);
    this.healthySince = this.lastBeat = Date.now();
    const leftovers = (await redis.smembers(keys.nodeConns(node))).filter((cid) => !this.o.local.has(cid));
    if (leftovers.length > 0) {
      this.o.log.warn({ node, connections: leftovers.length }, 'cluster: clearing connections left by an earlier process with this node id');
      await this.reapAll(leftovers);
    }
    if (this.stopped) return;
    this.timer = setInterval(() => void this.tick(), this.o.heartbeatMs);
    this.timer.unref();
  }

  /** Redis came back (the client reconnected): re-register, and give the others time before reaping. */
  onReconnected(): void {
    this.resyncNeeded = true;
    this.healthySince = null;
    void this.tick();
  }

  /**
   * One round: the heartbeat, then (without holding up later heartbeats) the upkeep: resync,
   * dirty entries, dead nodes. A long upkeep (re-registering or reaping thousands of
   * connections) must never make this node's own heartbeat go stale.
   */
  async tick(): Promise<void> {
    if (this.stopped) return;
    const beat = (this.beating ??= this.beat().finally(() => (this.beating = null)));
    if (!(await beat) || this.stopped) return;
    this.working ??= this.upkeep()
      .catch((err: unknown) => this.o.log.debug({ err: (err as Error).message }, 'cluster: upkeep failed'))
      .finally(() => (this.working = null));
  }

  /** Writes the heartbeat; resolves false when Redis did not take it or the node must drop everything. */
  private async beat(): Promise<boolean> {
    const { redis, keys, node, log } = this.o;
    let added: number;
    let tombstone: number;
    if (this.o.stalled()) {
      this.healthySince = null;
      return false;
    }
    try {
      [added, tombstone] = await redis.sbHeartbeat(keys.prefix, node);
    } catch (err) {
      this.healthySince = null;
      log.debug({ err: (err as Error).message }, 'cluster: heartbeat failed');
      return false;
    }
    const now = Date.now();
    if (this.healthySince === null || now - this.lastBeat > this.o.nodeTimeoutMs / 2) this.healthySince = now;
    this.lastBeat = now;
    if (tombstone === 1) {
      log.error({ node }, 'cluster: this node was declared dead while cut off from Redis; closing its connections (NODE_LOST)');
      this.o.store.orphans.clear();
      this.o.store.dirty.clear();
      await redis.del(`${keys.prefix}reaped:${node}`).catch(() => undefined);
      this.hooks?.nodeLost();
      return false;
    }
    if (added === 1) this.resyncNeeded = true;
    return true;
  }

  private async upkeep(): Promise<void> {
    const { store, local } = this.o;
    if (this.resyncNeeded) {
      this.resyncNeeded = false;
      await this.resync().catch((err: unknown) => {
        this.resyncNeeded = true;
        throw err;
      });
    } else if (store.dirty.size > 0) {
      const cids = [...store.dirty];
      store.dirty.clear();
      await this.putAll(cids.flatMap((cid) => local.get(cid) ?? [])).catch((err: unknown) => {
        for (const cid of cids) if (local.has(cid)) store.dirty.add(cid);
        throw err;
      });
    }
    if (this.healthySince === null || Date.now() - this.healthySince < this.o.nodeTimeoutMs) return;
    if (this.settlePending || this.o.store.orphans.size > 0) await this.settle();
    await this.reapDead();
  }

  private async putAll(records: ConnectionRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += BATCH) {
      await Promise.all(records.slice(i, i + BATCH).map((r) => this.o.store.putLocal(r)));
    }
  }

  /** Makes Redis agree with this node's live connections. */
  private async resync(): Promise<void> {
    const { local, store, log, node } = this.o;
    const started = Date.now();
    store.dirty.clear();
    await this.putAll(local.all());
    this.settlePending = true;
    log.info({ node, connections: local.size, closedMeanwhile: store.orphans.size, ms: Date.now() - started }, 'cluster: state re-registered in Redis');
  }

  /**
   * After a resync, once the other nodes have had `nodeTimeoutMs` to re-register too (so their
   * members hear it): announce the connections that closed while Redis was away, and clear
   * entries of this node that are not live any more (Redis kept data we could not remove).
   */
  private async settle(): Promise<void> {
    const { redis, keys, node, local, store } = this.o;
    this.settlePending = false;
    const orphans = new Map(store.orphans);
    store.orphans.clear();
    for (const cid of await this.reapAll([...orphans.keys()], orphans)) store.orphans.set(cid, orphans.get(cid)!);
    const stale = (await redis.smembers(keys.nodeConns(node))).filter((cid) => !local.has(cid) && !orphans.has(cid));
    await this.reapAll(stale);
  }

  /** Disconnects each cid cluster-wide; resolves with the ones that failed (retried later). */
  private async reapAll(cids: string[], fallbacks?: Map<string, ConnectionRecord>): Promise<string[]> {
    const hooks = this.hooks;
    if (!hooks) return cids;
    const failed: string[] = [];
    for (let i = 0; i < cids.length; i += REAP_PARALLEL) {
      const chunk = cids.slice(i, i + REAP_PARALLEL);
      const results = await Promise.allSettled(
        chunk.map((cid) => {
          const fallback = fallbacks?.get(cid);
          return fallback === undefined && hooks.gone ? hooks.gone(cid) : hooks.reap(cid, fallback);
        }),
      );
      results.forEach((r, j) => {
        if (r.status === 'rejected') failed.push(chunk[j]!);
      });
    }
    return failed;
  }

  private async reapDead(): Promise<void> {
    const { redis, keys, node, nodeTimeoutMs, log } = this.o;
    const lockMs = Math.max(nodeTimeoutMs, 30_000);
    const dead = await redis.sbReapClaim(keys.prefix, node, String(nodeTimeoutMs), String(lockMs));
    for (const gone of dead) {
      const cids = await redis.smembers(keys.nodeConns(gone));
      log.warn({ node: gone, connections: cids.length }, 'cluster: node stopped heartbeating; disconnecting its connections');
      const failed = await this.reapAll(cids);
      await redis.sbReapDone(keys.prefix, gone, String(nodeTimeoutMs));
      if (failed.length > 0) log.warn({ node: gone, failed: failed.length }, 'cluster: some connections of a dead node could not be cleared yet; retrying');
      this.o.onReaped(gone, cids.length - failed.length);
    }
  }

  /** Stops heartbeating and leaves the cluster (graceful shutdown, after every connection closed). */
  async stop(leave: boolean): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating?.catch(() => undefined);
    await this.working?.catch(() => undefined);
    if (!leave) return;
    const { redis, keys, node } = this.o;
    // Entries left behind (a cleanup failed): mark the node dead at once so a survivor reaps them.
    if ((await redis.scard(keys.nodeConns(node))) > 0) await redis.zadd(keys.nodes, 0, node);
    else await redis.zrem(keys.nodes, node);
  }
}
