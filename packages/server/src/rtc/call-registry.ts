/**
 * Call registry: tracks calls from `invite` (ringing) → `accept` (active) →
 * `reject`/`hangup` (ended, forgotten). The server never reads SDP; it only
 * needs to know which calls exist so it can tell the other side when a
 * participant's connection goes away, and bound ringing and active calls per connection.
 * Every signal costs O(1) store operations: the store keeps per-connection counts (see
 * Store.ringCall/acceptCall); stale ringing calls are deleted lazily, by the invite that
 * would otherwise be refused.
 */
import type { RtcSignal, ServerMessageOf } from '@switchboard/protocol';
import { RequestError } from '../request-error.js';
import type { ConnectionRecord, Store } from '../state/store.js';

/** A ringing call older than this no longer counts toward the per-connection bound (it is deleted). */
export const RING_STALE_MS = 2 * 60 * 1000;

export interface HangupNotice {
  to: string;
  message: ServerMessageOf<'rtc'>;
}

export interface CallRegistry {
  /** Whether `call` exists between the two connections (either direction). */
  exists(call: string, cidA: string, cidB: string): Promise<boolean>;
  /** Updates call state for a signal about to be relayed from → to. Throws RequestError when refused. */
  onSignal(from: ConnectionRecord, to: ConnectionRecord, call: string, signal: RtcSignal): Promise<void>;
  /** Forgets the calls of a connection that went away; returns the hangups to send to the other sides. */
  onDisconnect(gone: ConnectionRecord): Promise<HangupNotice[]>;
}

export interface CallRegistryOptions {
  maxRingingCalls: number;
  maxActiveCalls: number;
  now?: () => number;
}

export function createCallRegistry(store: Store, options: CallRegistryOptions): CallRegistry {
  const now = options.now ?? Date.now;
  const { maxRingingCalls, maxActiveCalls } = options;
  const tooMany = (message: string) => new RequestError('TOO_MANY_CALLS', message);

  return {
    async exists(call, a, b) {
      return (await store.getCall(call, a, b)) !== null;
    },

    async onSignal(from, to, call, signal) {
      switch (signal.kind) {
        case 'invite': {
          const at = now();
          const record = { call, caller: from.cid, callee: to.cid, state: 'ringing' as const, createdAt: at };
          const limits = { maxRinging: maxRingingCalls, maxActive: maxActiveCalls, staleBefore: at - RING_STALE_MS };
          // 'exists': a repeated invite for a known call changes nothing.
          switch (await store.ringCall(record, limits)) {
            case 'ringing_full':
              throw tooMany(`Too many ringing calls: at most ${maxRingingCalls} per connection.`);
            case 'active_full':
              throw tooMany(`Too many active calls: at most ${maxActiveCalls} per connection; hang one up first.`);
            default:
              return;
          }
        }
        case 'accept':
          // 'unchanged' (the caller's own accept, or an accepted call): relayed as is.
          switch (await store.acceptCall(call, from.cid, to.cid, maxActiveCalls)) {
            case 'not_found':
              throw new RequestError('RTC_CALL_NOT_FOUND', `Call "${call}" is not ringing (cancelled or ended).`);
            case 'callee_full':
              throw tooMany(`Too many active calls: at most ${maxActiveCalls} per connection; hang one up first.`);
            case 'caller_full':
              throw tooMany(`The caller already has ${maxActiveCalls} active calls (the most per connection).`);
            default:
              return;
          }
        case 'reject':
        case 'hangup':
          await store.deleteCall(call, from.cid, to.cid);
          return;
        default:
          return; // description / candidate: relayed as is
      }
    },

    async onDisconnect(gone) {
      const notices: HangupNotice[] = [];
      for (const record of await store.callsOf(gone.cid)) {
        await store.deleteCall(record.call, record.caller, record.callee);
        const goneIsCaller = record.caller === gone.cid;
        // One device of a ringing call to a user_id went away: the user's others may still answer.
        if (record.state === 'ringing' && !goneIsCaller && (await store.ringsFor(gone.user.user_id)).some((r) => r.call === record.call)) continue;
        const other = goneIsCaller ? record.callee : record.caller;
        const reason = record.state === 'ringing' && goneIsCaller ? 'cancelled' : 'peer_gone';
        notices.push({
          to: other,
          message: {
            type: 'rtc',
            call: record.call,
            sender: gone.user.user_id,
            sender_cid: gone.cid,
            sender_name: gone.user.name,
            signal: { kind: 'hangup', reason },
          },
        });
      }
      return notices;
    },
  };
}
