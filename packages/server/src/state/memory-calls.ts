/**
 * The memory Store's calls. Besides the calls themselves, two per-connection indexes keep
 * every cap check O(1): the ringing calls a connection placed (with their creation time, for
 * the stale-ringing rule) and the active calls it takes part in.
 */
import type { CallRecord, Store } from './store.js';

type CallMethods = Pick<Store, 'putCall' | 'ringCall' | 'acceptCall' | 'callCounts' | 'getCall' | 'deleteCall' | 'callsOf'> & {
  peekCall(call: string, a: string, b: string): boolean;
};

export const callKey = (call: string, a: string, b: string): string => (a < b ? `${call} ${a} ${b}` : `${call} ${b} ${a}`);

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

export function createMemoryCalls(): CallMethods & { clear(): void } {
  const calls = new Map<string, CallRecord>();
  const byCid = new Map<string, Set<string>>();
  /** caller cid → keys of the ringing calls it placed → createdAt. */
  const ringing = new Map<string, Map<string, number>>();
  /** cid → keys of the active calls it takes part in (either side). */
  const active = new Map<string, Set<string>>();

  function unindex(key: string): void {
    const record = calls.get(key);
    if (!record) return;
    calls.delete(key);
    removeFrom(byCid, record.caller, key);
    removeFrom(byCid, record.callee, key);
    const placed = ringing.get(record.caller);
    if (placed?.delete(key) && placed.size === 0) ringing.delete(record.caller);
    removeFrom(active, record.caller, key);
    removeFrom(active, record.callee, key);
  }

  function index(key: string, record: CallRecord): void {
    unindex(key);
    calls.set(key, { ...record });
    addTo(byCid, record.caller, key);
    addTo(byCid, record.callee, key);
    if (record.state === 'ringing') {
      let placed = ringing.get(record.caller);
      if (!placed) ringing.set(record.caller, (placed = new Map()));
      placed.set(key, record.createdAt);
    } else {
      addTo(active, record.caller, key);
      addTo(active, record.callee, key);
    }
  }

  /** Ringing calls `cid` placed, stale ones deleted first (walks at most the ringing cap's worth). */
  function ringingOf(cid: string, staleBefore: number): number {
    const placed = ringing.get(cid);
    if (!placed) return 0;
    for (const [key, createdAt] of placed) if (createdAt < staleBefore) unindex(key);
    return ringing.get(cid)?.size ?? 0;
  }

  return {
    async putCall(record) {
      index(callKey(record.call, record.caller, record.callee), record);
    },
    async ringCall(record, limits) {
      const key = callKey(record.call, record.caller, record.callee);
      if (calls.has(key)) return 'exists';
      if ((active.get(record.caller)?.size ?? 0) >= limits.maxActive) return 'active_full';
      // Under the cap nothing stale needs deleting to decide; at the cap, stale calls make room.
      const count = ringing.get(record.caller)?.size ?? 0;
      if (count >= limits.maxRinging && ringingOf(record.caller, limits.staleBefore) >= limits.maxRinging) return 'ringing_full';
      index(key, { ...record, state: 'ringing' });
      return 'ok';
    },
    async acceptCall(call, callee, caller, maxActive) {
      const key = callKey(call, callee, caller);
      const record = calls.get(key);
      if (!record) return 'not_found';
      if (record.state !== 'ringing' || record.callee !== callee) return 'unchanged';
      if ((active.get(callee)?.size ?? 0) >= maxActive) return 'callee_full';
      if ((active.get(record.caller)?.size ?? 0) >= maxActive) return 'caller_full';
      index(key, { ...record, state: 'active' });
      return 'ok';
    },
    async callCounts(cid) {
      return { ringing: ringing.get(cid)?.size ?? 0, active: active.get(cid)?.size ?? 0 };
    },
    async getCall(call, a, b) {
      const record = calls.get(callKey(call, a, b));
      return record ? { ...record } : null;
    },
    peekCall(call, a, b) {
      return calls.has(callKey(call, a, b));
    },
    async deleteCall(call, a, b) {
      unindex(callKey(call, a, b));
    },
    async callsOf(cid) {
      return [...(byCid.get(cid) ?? [])].flatMap((key) => {
        const record = calls.get(key);
        return record ? [{ ...record }] : [];
      });
    },
    clear() {
      calls.clear();
      byCid.clear();
      ringing.clear();
      active.clear();
    },
  };
}
