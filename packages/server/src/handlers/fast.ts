/**
 * The synchronous path of the two relays that carry most of a call's and a chat's traffic: an
 * `rtc` description or candidate, and a `post` to one connection (`cid:…`). The same checks and
 * the same frame bytes as rtc.ts and post.ts, finished before the function returns when all they
 * need is in this process (Store.peekConnection / peekCall, Delivery.sendNow): no promise, no
 * record copies. Anything else returns `undefined` and goes to the async handler, which also
 * produces every refusal but RECIPIENT_NOT_FOUND after a failed delivery (thrown here as there).
 */
import { isCid, type AckResultOf, type ClientMessage, type ClientMessageOf } from '@switchboard/protocol';
import type { ServerContext, Session } from '../context.js';
import { RequestError } from '../request-error.js';
import { buildFrame } from '../state/delivery.js';
import { mayPairWithoutCall, rtcFrame } from './rtc.js';

type Relayed = AckResultOf<'rtc'> & AckResultOf<'post'>;

/** Runs `message` to its result now, or returns undefined (then run the async handler). */
export function dispatchNow(ctx: ServerContext, session: Session, message: ClientMessage): Relayed | undefined {
  if (message.type === 'rtc') return rtcNow(ctx, session, message);
  if (message.type === 'post') return postNow(ctx, session, message);
  return undefined;
}

function rtcNow(ctx: ServerContext, session: Session, msg: ClientMessageOf<'rtc'>): Relayed | undefined {
  const { store, delivery } = ctx;
  const kind = msg.signal.kind;
  // invite / accept / reject / hangup change call state (rtc/call-registry.ts); a description or
  // a candidate is relayed as is.
  if ((kind !== 'description' && kind !== 'candidate') || store.peekConnection === undefined || delivery.sendNow === undefined) return undefined;
  if (msg.to === session.cid) return undefined;
  const self = store.peekConnection(session.cid);
  const target = store.peekConnection(msg.to);
  if (!self || !target) return undefined;
  const allowed = mayPairWithoutCall(ctx, self, target) || store.peekCall?.(msg.call, self.cid, target.cid) === true;
  if (!allowed) return undefined;
  const delivered = delivery.sendNow(target.cid, rtcFrame(session, msg));
  if (delivered === 0) throw new RequestError('RECIPIENT_NOT_FOUND', `No open connection "${msg.to}".`);
  return { delivered };
}

function postNow(ctx: ServerContext, session: Session, msg: ClientMessageOf<'post'>): Relayed | undefined {
  const { store, delivery } = ctx;
  // A group post, a post to a user_id or one with a notification: post.ts.
  if (msg.notification !== undefined || !isCid(msg.to) || store.peekConnection === undefined || delivery.sendNow === undefined) return undefined;
  const self = store.peekConnection(session.cid);
  if (!self || self.group === msg.to || !store.peekConnection(msg.to)) return undefined;
  const frame = buildFrame({ type: 'private', message: msg.message, sender: session.user.user_id, sender_cid: session.cid, sender_rid: null });
  const delivered = delivery.sendNow(msg.to, frame);
  if (delivered === 0) throw new RequestError('RECIPIENT_NOT_FOUND', `No open connection "${msg.to}".`);
  return { delivered };
}
