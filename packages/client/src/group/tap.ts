/**
 * Lets an add-on see (and consume) realtime events before the app's callback: the realtime
 * layer's `emit` is wrapped once per instance, and a tap that returns true keeps the event from
 * the app. Both the server's pushes and the call layer's events (rtc:incoming, rtc:closed) pass
 * through `emit`, so one wrapper sees them all. Keeping this in the add-on leaves the core SDK
 * (and its size budget) untouched.
 */
import type { Realtime } from '../realtime/realtime.js';
import type { RealtimeEvent } from '../types.js';

export type RealtimeTap = (event: RealtimeEvent) => boolean;

const taps = new WeakMap<Realtime, Set<RealtimeTap>>();

/** Adds `tap`; returns the function that removes it. */
export function tapRealtime(realtime: Realtime, tap: RealtimeTap): () => void {
  let set = taps.get(realtime);
  if (!set) {
    const installed = new Set<RealtimeTap>();
    set = installed;
    taps.set(realtime, installed);
    const emit = realtime.emit.bind(realtime);
    realtime.emit = (event: RealtimeEvent): void => {
      for (const each of [...installed]) {
        let consumed = false;
        try {
          consumed = each(event);
        } catch (error) {
          console.error('Switchboard: a realtime tap failed', error);
        }
        if (consumed) return;
      }
      emit(event);
    };
  }
  set.add(tap);
  return () => void set.delete(tap);
}
