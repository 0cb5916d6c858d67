/**
 * This node's own connections and their groups, kept in memory next to Redis: group frames
 * arriving from other nodes are delivered from here, and after Redis lost its data (restart,
 * failover) the node re-registers everything from here. It is the source of truth for this
 * node's connections; Redis is brought back in line with it.
 */
import type { ConnectionRecord } from '../state/store.js';

export class LocalIndex {
  private readonly records = new Map<string, ConnectionRecord>();
  private readonly groups = new Map<string, Set<string>>();

  get size(): number {
    return this.records.size;
  }

  has(cid: string): boolean {
    return this.records.has(cid);
  }

  get(cid: string): ConnectionRecord | undefined {
    return this.records.get(cid);
  }

  all(): ConnectionRecord[] {
    return [...this.records.values()];
  }

  cids(): Set<string> {
    return new Set(this.records.keys());
  }

  add(record: ConnectionRecord): void {
    this.remove(record.cid);
    this.records.set(record.cid, { ...record, user: { ...record.user } });
    if (record.group !== null) this.join(record.group, record.cid);
  }

  remove(cid: string): ConnectionRecord | null {
    const record = this.records.get(cid);
    if (!record) return null;
    this.records.delete(cid);
    if (record.group !== null) this.leave(record.group, cid);
    return record;
  }

  /** Moves a connection; returns the previous group (undefined when the cid is not local). */
  setGroup(cid: string, group: string | null): string | null | undefined {
    const record = this.records.get(cid);
    if (!record) return undefined;
    const previous = record.group;
    if (previous !== null) this.leave(previous, cid);
    record.group = group;
    if (group !== null) this.join(group, cid);
    return previous;
  }

  /** Local members of a group (a live view: copy before awaiting). */
  members(group: string): ReadonlySet<string> {
    return this.groups.get(group) ?? EMPTY;
  }

  private join(group: string, cid: string): void {
    let set = this.groups.get(group);
    if (!set) this.groups.set(group, (set = new Set()));
    set.add(cid);
  }

  private leave(group: string, cid: string): void {
    const set = this.groups.get(group);
    if (!set) return;
    set.delete(cid);
    if (set.size === 0) this.groups.delete(group);
  }
}

const EMPTY: ReadonlySet<string> = new Set();
