/** The memory Store's calls to a user_id (store.ts, UserRing): each forgotten by a timer when it expires. */
import type { RingClaim, RingEnd, Store, UserRing } from './store.js';

type RingMethods = Pick<Store, 'putRing' | 'ringsFor' | 'claimRing'>;

interface Entry {
  ring: UserRing;
  settled: { by: string; end: RingEnd } | null;
  timer: ReturnType<typeof setTimeout>;
}

export function createMemoryRings(now: () => number = Date.now): RingMethods & { clear(): void } {
  const rings = new Map<string, Entry>();
  /** user_id → calls ringing that user (settled ones leave it). */
  const byUser = new Map<string, Set<string>>();

  function unlist(ring: UserRing): void {
    const calls = byUser.get(ring.to);
    if (calls?.delete(ring.call) && calls.size === 0) byUser.delete(ring.to);
  }

  function forget(call: string): void {
    const entry = rings.get(call);
    if (!entry) return;
    clearTimeout(entry.timer);
    rings.delete(call);
    unlist(entry.ring);
  }

  return {
    async putRing(ring) {
      forget(ring.call);
      const timer = setTimeout(() => forget(ring.call), Math.max(0, ring.expiresAt - now()));
      timer.unref?.();
      rings.set(ring.call, { ring: structuredClone(ring), settled: null, timer });
      let calls = byUser.get(ring.to);
      if (!calls) byUser.set(ring.to, (calls = new Set()));
      calls.add(ring.call);
    },
    async ringsFor(userId) {
      const at = now();
      const out: UserRing[] = [];
      for (const call of byUser.get(userId) ?? []) {
        const entry = rings.get(call);
        if (entry && !entry.settled && entry.ring.expiresAt > at) out.push(structuredClone(entry.ring));
      }
      return out;
    },
    async claimRing(call, by, userId, end): Promise<RingClaim | null> {
      const entry = rings.get(call);
      if (!entry || (entry.ring.to !== userId && entry.ring.caller !== by)) return null;
      const ring = structuredClone(entry.ring);
      if (entry.settled) return { outcome: entry.settled.by === by ? 'won' : 'lost', ring, ...entry.settled };
      entry.settled = { by, end };
      unlist(entry.ring);
      return { outcome: 'won', ring, by, end };
    },
    clear() {
      for (const entry of rings.values()) clearTimeout(entry.timer);
      rings.clear();
      byUser.clear();
    },
  };
}
