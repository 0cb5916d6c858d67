/** The default Store: everything in this process's memory. */
import { matchesGroupFilter } from './group-search.js';
import { createMemoryCalls } from './memory-calls.js';
import { createMemoryRings } from './memory-rings.js';
import { paginate } from './paging.js';
import type { ConnectionRecord, GroupRow, Store, UserRow } from './store.js';

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

export function createMemoryStore(): Store {
  const connections = new Map<string, ConnectionRecord>();
  const byUser = new Map<string, Set<string>>();
  const groups = new Map<string, Set<string>>();
  const { clear: clearCalls, ...calls } = createMemoryCalls();
  const { clear: clearRings, ...rings } = createMemoryRings();

  const copy = (r: ConnectionRecord): ConnectionRecord => ({ ...r, user: { ...r.user } });

  return {
    async addConnection(record) {
      // The user is shared, not copied: a connection's UserInfo is never changed (copy() gives callers their own).
      connections.set(record.cid, { ...record });
      addTo(byUser, record.user.user_id, record.cid);
      if (record.group !== null) addTo(groups, record.group, record.cid);
    },
    async removeConnection(cid) {
      const record = connections.get(cid);
      if (!record) return null;
      connections.delete(cid);
      removeFrom(byUser, record.user.user_id, cid);
      if (record.group !== null) removeFrom(groups, record.group, cid);
      return record;
    },
    async getConnection(cid) {
      const record = connections.get(cid);
      return record ? copy(record) : null;
    },
    peekConnection(cid) {
      return connections.get(cid) ?? null;
    },
    async userConnections(userId) {
      return [...(byUser.get(userId) ?? [])];
    },
    async countUserConnections(userId) {
      return byUser.get(userId)?.size ?? 0;
    },
    async setGroup(cid, group) {
      const record = connections.get(cid);
      if (!record) return null;
      const previous = record.group;
      if (previous !== null) removeFrom(groups, previous, cid);
      record.group = group;
      if (group !== null) addTo(groups, group, cid);
      return previous;
    },
    async groupMembers(group) {
      return [...(groups.get(group) ?? [])];
    },
    async groupExists(group) {
      return groups.has(group);
    },
    async counts() {
      return { connections: connections.size, groups: groups.size };
    },
    async listUsers(query) {
      const rows: UserRow[] = [];
      for (const cid of groups.get(query.group) ?? []) {
        const record = connections.get(cid);
        if (!record) continue;
        if (query.user_id !== undefined && record.user.user_id !== query.user_id) continue;
        rows.push({ user_id: record.user.user_id, cid });
      }
      return paginate(rows, (r) => [r.user_id, r.cid], query);
    },
    async listGroups(query) {
      const rows: GroupRow[] = [];
      for (const [group, members] of groups) {
        const row = { group, number_of_users: members.size };
        if (matchesGroupFilter(row, query)) rows.push(row);
      }
      const keyOf = query.searchFor === 'group' ? (r: GroupRow) => [r.group] : (r: GroupRow) => [r.number_of_users, r.group];
      return paginate(rows, keyOf, query);
    },

    ...calls,
    ...rings,

    async close() {
      connections.clear();
      byUser.clear();
      groups.clear();
      clearCalls();
      clearRings();
    },
  };
}
