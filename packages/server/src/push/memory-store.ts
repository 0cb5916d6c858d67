/** Subscriptions and per-user push counts in this process's memory (a single node). */
import type { PushStore, StoredSubscription } from './types.js';

const MINUTE_MS = 60_000;

export function createMemoryPushStore(now: () => number = Date.now): PushStore {
  const byUser = new Map<string, Map<string, StoredSubscription>>();
  const owner = new Map<string, string>();
  const counts = new Map<string, { minute: number; n: number }>();

  return {
    async add(userId, subscription, maxPerUser) {
      let mine = byUser.get(userId);
      if (!mine?.has(subscription.endpoint) && (mine?.size ?? 0) >= maxPerUser) return 'full';
      // One endpoint is one browser profile: whoever subscribed it last gets its pushes.
      const previous = owner.get(subscription.endpoint);
      if (previous !== undefined && previous !== userId) removeFrom(previous, subscription.endpoint);
      if (!mine) byUser.set(userId, (mine = new Map()));
      mine.set(subscription.endpoint, { ...subscription, keys: { ...subscription.keys } });
      owner.set(subscription.endpoint, userId);
      return mine.size;
    },
    async remove(userId, endpoint) {
      return removeFrom(userId, endpoint);
    },
    async list(userId) {
      return [...(byUser.get(userId)?.values() ?? [])];
    },
    async take(userId, perMinute) {
      if (perMinute === 0) return true;
      const minute = Math.floor(now() / MINUTE_MS);
      const entry = counts.get(userId);
      if (!entry || entry.minute !== minute) {
        // Entries of past minutes are dead weight: drop them now and then.
        if (counts.size > 10_000) for (const [user, e] of counts) if (e.minute !== minute) counts.delete(user);
        counts.set(userId, { minute, n: 1 });
        return true;
      }
      if (entry.n >= perMinute) return false;
      entry.n += 1;
      return true;
    },
    sharedKeys: () => null,
    async close() {
      byUser.clear();
      owner.clear();
      counts.clear();
    },
  };

  function removeFrom(userId: string, endpoint: string): boolean {
    const mine = byUser.get(userId);
    if (!mine?.delete(endpoint)) return false;
    if (mine.size === 0) byUser.delete(userId);
    if (owner.get(endpoint) === userId) owner.delete(endpoint);
    return true;
  }
}
