/**
 * This node's cache of where other connections are: the records of connections it asked about
 * (getConnection) and the members of groups it sent to, each member with its node. It answers
 * the routing questions of a post or a call signal without a Redis round trip.
 *
 * Coherence: every change to a connection's node or group in Redis is published, inside the
 * script that makes it (scripts.ts, and the resume claim in resume/redis-scripts.ts), on the
 * cluster-wide channel `<prefix>m` as the cid's new state {c, n: node ('' gone), g: group ('' none),
 * p: previous group}. Events come in the order Redis made the changes, and each is the cid's whole
 * state, so applying them in order keeps the cache equal to Redis. A notice about a change (a
 * USER_JOINED) is published after the change's event by the same node, so a node has applied a
 * join before its clients can hear about it.
 *
 * Misses go to Redis. An event for a cid or group that arrives while its fetch is in flight makes
 * the fetched state suspect: a record is then used once but not kept, and a group's events are
 * replayed over the fetched list (each event is a whole state, so replaying those the fetch
 * already saw changes nothing once the later ones are applied). When events may have been lost
 * (the subscriber reconnected) or a node died, the cache is dropped and refilled on demand.
 */
import type { ConnectionRecord } from '../state/store.js';

export interface RouteEvent {
  /** cid */
  c: string;
  /** Its node now ('' : the connection is gone). */
  n: string;
  /** Its group now ('' : none). */
  g: string;
  /** Its group before the change ('' : none). */
  p: string;
}

/** A group's members on other nodes too: cid → node, and how many per node. */
export interface GroupRoutes {
  readonly members: ReadonlyMap<string, string>;
  readonly perNode: ReadonlyMap<string, number>;
}

class Group implements GroupRoutes {
  readonly members = new Map<string, string>();
  readonly perNode = new Map<string, number>();

  set(cid: string, node: string): void {
    const before = this.members.get(cid);
    if (before === node) return;
    if (before !== undefined) this.count(before, -1);
    this.members.set(cid, node);
    this.count(node, 1);
  }

  delete(cid: string): void {
    const before = this.members.get(cid);
    if (before === undefined) return;
    this.members.delete(cid);
    this.count(before, -1);
  }

  private count(node: string, delta: number): void {
    const n = (this.perNode.get(node) ?? 0) + delta;
    if (n > 0) this.perNode.set(node, n);
    else this.perNode.delete(node);
  }
}

const MAX_RECORDS = 100_000;
const MAX_GROUPS = 10_000;

export class RouteCache {
  private readonly records = new Map<string, ConnectionRecord>();
  private readonly groups = new Map<string, Group>();
  /** Fetches in flight: cid → whether an event about it arrived meanwhile. */
  private readonly fetching = new Map<string, { stale: boolean; done: Promise<ConnectionRecord | null> }>();
  /** Group loads in flight: the events about the group that arrived meanwhile. */
  private readonly loading = new Map<string, { events: RouteEvent[]; done: Promise<GroupRoutes> }>();
  /** Lookups answered from the cache, and those that went to Redis (tests, metrics). */
  hits = 0;
  misses = 0;

  /** Applies one event from the routes channel. */
  apply(e: RouteEvent): void {
    const fetch = this.fetching.get(e.c);
    if (fetch) fetch.stale = true;
    for (const [group, load] of this.loading) if (e.g === group || e.p === group) load.events.push(e);
    if (e.n === '') this.records.delete(e.c);
    else {
      const record = this.records.get(e.c);
      if (record) {
        record.node = e.n;
        record.group = e.g === '' ? null : e.g;
      }
    }
    this.applyToGroups(e);
  }

  private applyToGroups(e: RouteEvent, only?: Group): void {
    if (e.p !== '' && e.p !== e.g) (only ?? this.groups.get(e.p))?.delete(e.c);
    if (e.g === '') return;
    const group = only ?? this.groups.get(e.g);
    if (e.n === '') group?.delete(e.c);
    else group?.set(e.c, e.n);
  }

  /** Events may have been missed (subscriber reconnected, Redis lost its data): forget everything. */
  clear(): void {
    this.records.clear();
    this.groups.clear();
    for (const fetch of this.fetching.values()) fetch.stale = true;
    // A load in flight may have read Redis before the events we missed: do not keep it.
    for (const [group, load] of this.loading) load.events.push({ c: '', n: '', g: group, p: group });
  }

  /** A node died: what was cached about its connections is refetched (its cids are reaped or marked away). */
  dropNode(node: string): void {
    for (const [cid, record] of this.records) if (record.node === node) this.records.delete(cid);
    for (const [name, group] of this.groups) if (group.perNode.has(node)) this.groups.delete(name);
    for (const fetch of this.fetching.values()) fetch.stale = true;
  }

  /** The connection's record (a copy), from the cache or `load` (a Redis read, cached when nothing changed meanwhile). */
  async record(cid: string, load: () => Promise<ConnectionRecord | null>): Promise<ConnectionRecord | null> {
    const hit = this.records.get(cid);
    if (hit) {
      this.hits += 1;
      return { ...hit, user: { ...hit.user } };
    }
    this.misses += 1;
    let fetch = this.fetching.get(cid);
    if (!fetch) {
      const entry = { stale: false, done: load() };
      fetch = entry;
      this.fetching.set(cid, entry);
      const forget = () => {
        if (this.fetching.get(cid) === entry) this.fetching.delete(cid);
      };
      entry.done.then((record) => {
        forget();
        if (record && !entry.stale) this.keep(cid, record);
      }, forget);
    }
    const record = await fetch.done;
    return record && { ...record, user: { ...record.user } };
  }

  /** The node of a cached cid (undefined: not cached). */
  nodeOf(cid: string): string | undefined {
    return this.records.get(cid)?.node;
  }

  forget(cid: string): void {
    this.records.delete(cid);
  }

  /** The group's members and their nodes, from the cache or `load` ([cid, node] pairs read from Redis). */
  group(name: string, load: () => Promise<Array<[string, string]>>): Promise<GroupRoutes> | GroupRoutes {
    const cached = this.groups.get(name);
    if (cached) {
      this.hits += 1;
      return cached;
    }
    this.misses += 1;
    const inFlight = this.loading.get(name);
    if (inFlight) return inFlight.done;
    const entry = { events: [] as RouteEvent[], done: null as unknown as Promise<GroupRoutes> };
    entry.done = load().then(
      (pairs) => {
        this.loading.delete(name);
        const group = new Group();
        for (const [cid, node] of pairs) group.set(cid, node);
        let keep = true;
        for (const e of entry.events) {
          if (e.c === '') keep = false;
          else this.applyToGroups(e, group);
        }
        if (keep) this.keepGroup(name, group);
        return group;
      },
      (err: unknown) => {
        this.loading.delete(name);
        throw err;
      },
    );
    // The caller may not await it (Redis found stalled meanwhile): a failure is theirs to see, not an unhandled rejection.
    entry.done.catch(() => undefined);
    this.loading.set(name, entry);
    return entry.done;
  }

  private keep(cid: string, record: ConnectionRecord): void {
    if (this.records.size >= MAX_RECORDS) this.records.delete(this.records.keys().next().value!);
    this.records.set(cid, { ...record, user: { ...record.user } });
  }

  private keepGroup(name: string, group: Group): void {
    if (this.groups.size >= MAX_GROUPS) this.groups.delete(this.groups.keys().next().value!);
    this.groups.set(name, group);
  }
}
