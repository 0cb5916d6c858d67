/**
 * Call registry: tracks calls from `invite` (ringing) → `accept` (active) →
 * `reject`/`hangup` (ended, forgotten). The server never reads SDP; it only
 * needs to know which calls exist so it can tell the other side when a
 * participant's connection goes away, and bound ringing calls per connection.
 */
import type { RtcSignal, ServerMessageOf } from '@switchboard/protocol';
import { RequestError } from '../request-error.js';
import type { ConnectionRecord, Store } from '../state/store.js';

/** A ringing call older than this no longer counts toward the per-connection bound. */
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

export function createCallRegistry(store: Store, options: { maxRingingCalls: number; now?: () => number }): CallRegistry {
  const now = options.now ?? Date.now;

  async function ringingFrom(cid: string): Promise<number> {
    let count = 0;
    for (const call of await store.callsOf(cid)) {
      if (call.caller !== cid || call.state !== 'ringing') continue;
      if (now() - call.createdAt > RING_STALE_MS) await store.deleteCall(call.call, call.caller, call.callee);
      else count += 1;
    }
    return count;
  }

  return {
    async exists(call, a, b) {
      return (await store.getCall(call, a, b)) !== null;
    },

    async onSignal(from, to, call, signal) {
      const existing = await store.getCall(call, from.cid, to.cid);
      switch (signal.kind) {
        case 'invite': {
          if (existing) return; // a repeated invite for a known call changes nothing
          if ((await ringingFrom(from.cid)) >= options.maxRingingCalls) {
            throw new RequestError(
              'RATE_LIMITED',
              `Too many ringing calls: at most ${options.maxRingingCalls} per connection.`,
            );
          }
          await store.putCall({ call, caller: from.cid, callee: to.cid, state: 'ringing', createdAt: now() });
          return;
        }
        case 'accept': {
          if (!existing) throw new RequestError('RTC_CALL_NOT_FOUND', `Call "${call}" is not ringing (cancelled or ended).`);
          if (existing.state === 'ringing' && existing.callee === from.cid) {
            await store.putCall({ ...existing, state: 'active' });
          }
          return;
        }
        case 'reject':
        case 'hangup':
          if (existing) await store.deleteCall(call, from.cid, to.cid);
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
