/**
 * Ending a call, whoever ends it and however: `rtc:closed` once, the caller's `connection`
 * settled, the tracks the SDK opened for this call stopped, the peer told (over the
 * control channel when it is open, and over the realtime connection).
 *
 * Apart from the phases because every phase ends here (a ring timeout, a decline, a hang-up,
 * a failed path, a page going away) and the guarantees above must hold the same for all.
 */
import type { RtcSignal, SwitchboardError } from '@switchboard/protocol';
import type { DeclineReason, RtcEndReason } from '../types.js';
import type { CallData } from './call-data.js';
import { releaseMedia } from './media.js';
import { ABNORMAL, closedEvent, endError } from './reasons.js';
import { settledWithin } from './settled-within.js';
import { closedBeforePickup } from '../rtc/events.js';

/** The app hangs up: cancel (caller, ringing), decline (callee, ringing) or hang up. */
export function hangup(call: CallData, reason?: DeclineReason | { reason?: DeclineReason } | null): void {
  if (call.state === 'ended') return;
  if (call.state === 'ringing' && call.direction === 'incoming') {
    const asked = typeof reason === 'object' && reason !== null ? reason.reason : reason;
    const why = asked === 'busy' ? 'busy' : 'rejected';
    void end(call, why, 'self', { notify: { kind: 'reject', reason: why } });
  } else if (call.state === 'ringing') {
    void end(call, 'cancelled', 'self', { notify: { kind: 'hangup', reason: 'cancelled' } });
  } else {
    void end(call, 'hangup', 'self', { notify: { kind: 'hangup', reason: 'hangup' } });
  }
}

/**
 * The page is being unloaded: its peer connections die with it, often without a close the
 * peer notices, so the peer hears it now, over the control channel and the realtime connection.
 */
export function leavePage(call: CallData): void {
  if (call.state === 'ended') return;
  const cancelling = call.state === 'ringing' && call.direction === 'outgoing';
  void end(call, cancelling ? 'cancelled' : 'hangup', 'self', { notify: { kind: 'hangup', reason: cancelling ? 'cancelled' : 'peer_gone' } });
}

export function end(call: CallData, reason: RtcEndReason, by: 'self' | 'peer', opts: { notify?: RtcSignal; error?: SwitchboardError } = {}): Promise<void> {
  if (call.state === 'ended') return call.closing ?? Promise.resolve();
  const was = call.state;
  call.state = 'ended';
  clearTimeout(call.ringTimer);
  const error = opts.error ?? endError(reason, was === 'ringing');
  if (call.settle && !call.resolved) call.settle.reject(error);
  call.settle = null;
  const sends: Promise<unknown>[] = [];
  let viaControl = false;
  if (opts.notify) {
    const notify = opts.notify;
    if (notify.kind === 'hangup') viaControl = call.session?.sendControl({ t: 'hangup', reason: notify.reason ?? 'hangup' }) ?? false;
    if (call.ctx.realtimeOpen() || !viaControl) {
      sends.push(call.ctx.host.sendSignal(call.peer.cid, call.id, notify).catch(() => undefined));
    }
  }
  releaseMedia(call.media);
  call.ctx.ended(call);
  // Skapi apps watch the RTC callback for `closed` to learn that a call was rejected or
  // never answered: a call that ends before it has a peer connection says so too.
  if (!call.session) call.deliver(closedBeforePickup());
  call.closing = (async () => {
    await call.connection.close(viaControl ? 300 : 0);
    await settledWithin(Promise.all(sends), 1000);
  })();
  const hungup = by === 'self' ? call.selfUser : call.peer.user_id;
  call.ctx.host.emitRealtime(closedEvent(call.id, call.peer, hungup, reason, opts.error || ABNORMAL.has(reason) ? error : null));
  return call.closing;
}
