import { isCid } from '@switchboard/protocol';
import { RequestError } from '../request-error.js';
import { claimRing, signalUser } from '../rtc/ring-user.js';
import { buildFrame } from '../state/delivery.js';
import type { ServerContext, Session } from '../context.js';
import type { ClientMessageOf } from '@switchboard/protocol';
import type { Handler } from './types.js';

type Peer = { user: { user_id: string }; group: string | null };

/** The pairs that may signal each other without a call between them (the call is checked apart: sync or async). */
export function mayPairWithoutCall(ctx: ServerContext, self: Peer, target: Peer): boolean {
  return ctx.config.rtc.allowAnyPair || self.user.user_id === target.user.user_id || (self.group !== null && self.group === target.group);
}

/** The relayed `rtc` frame, the same bytes from the async handler and the synchronous path (fast.ts). */
export function rtcFrame(session: Session, msg: ClientMessageOf<'rtc'>) {
  return buildFrame({
    type: 'rtc',
    call: msg.call,
    sender: session.user.user_id,
    sender_cid: session.cid,
    sender_name: session.user.name,
    signal: msg.signal,
  });
}

/**
 * Relays a call signal to exactly one connection. Allowed when both
 * connections share a group, belong to the same user, already have this call
 * between them, or `rtc.allowAnyPair` is set. SDP is never parsed.
 */
export const rtc: Handler<'rtc'> = async (ctx, session, msg, ack) => {
  if (msg.to === session.cid) throw new RequestError('INVALID_REQUEST', 'Cannot signal your own connection.');
  if (!isCid(msg.to)) return signalUser(ctx, session, msg); // a user_id: ring all of their connections
  const [self, target] = await Promise.all([ctx.store.getConnection(session.cid), ctx.store.getConnection(msg.to)]);
  if (!self || !target) throw new RequestError('RECIPIENT_NOT_FOUND', `No open connection "${msg.to}".`);
  // Once per call: the first accept (or decline) of a call to a user_id settles it on every device.
  const { kind } = msg.signal;
  if ((kind === 'accept' || kind === 'reject') && !(await claimRing(ctx, self, target, msg.call, kind))) return { delivered: 0 };
  const allowed = mayPairWithoutCall(ctx, self, target) || (await ctx.calls.exists(msg.call, self.cid, target.cid));
  if (!allowed) {
    throw new RequestError('FORBIDDEN', 'You can only signal connections that share a group with you.');
  }
  await ctx.calls.onSignal(self, target, msg.call, msg.signal);
  const delivered = await ctx.delivery.send([target.cid], rtcFrame(session, msg), ack);
  if (delivered === 0) throw new RequestError('RECIPIENT_NOT_FOUND', `No open connection "${msg.to}".`);
  return { delivered };
};
