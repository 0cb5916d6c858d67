/**
 * Calls to a user_id (docs/api.md, "Ringing a user"). The invite rings every open connection of
 * the user, wherever it is in the cluster, and each connection of theirs that comes up while it
 * rings; with none open, a push "<name> is calling" goes to the user's push subscriptions. Each
 * rung connection gets an ordinary ringing call record (so its accept, decline and disconnect go
 * through the call registry like any call); the ring itself is one store entry settled by the
 * first claim: the first accept takes the call, a decline declines it on every device, and the
 * caller's hang-up cancels it. The others stop ringing with `answered_elsewhere`,
 * `declined_elsewhere` or `cancelled`.
 */
import type { ClientMessageOf, RtcSignal } from '@switchboard/protocol';
import type { ServerContext, Session } from '../context.js';
import { RequestError } from '../request-error.js';
import { buildFrame } from '../state/delivery.js';
import type { ConnectionRecord, RingEnd, UserRing } from '../state/store.js';
import { RING_STALE_MS } from './call-registry.js';

type HangupReason = NonNullable<Extract<RtcSignal, { kind: 'hangup' }>['reason']>;

/** How long a call to a user rings at most on the server (the caller's own ring timeout ends it sooner). */
export const USER_RING_MS = RING_STALE_MS;

/** The reason the other rung connections hear, by how the ring was settled. */
const ELSEWHERE: Record<RingEnd, HangupReason> = { answered: 'answered_elsewhere', declined: 'declined_elsewhere', cancelled: 'cancelled' };

/** The push a call to a user with no open connection sends (what a service worker shows). */
export function callPush(ring: UserRing): { title: string; body: string; data: Record<string, unknown> } {
  const name = ring.from.name || ring.from.user_id;
  return {
    title: `${name} is calling`,
    body: 'Open the app to answer.',
    data: { type: 'call', call: ring.call, sender: ring.from.user_id, sender_name: ring.from.name, sender_cid: ring.caller },
  };
}

function inviteFrame(ring: UserRing) {
  return buildFrame({ type: 'rtc', call: ring.call, sender: ring.from.user_id, sender_cid: ring.caller, sender_name: ring.from.name, signal: ring.invite });
}

/** `rtc` with `to` a user_id: an invite rings the user, a hang-up cancels (or times out) the ring. */
export async function signalUser(ctx: ServerContext, session: Session, msg: ClientMessageOf<'rtc'>): Promise<{ delivered: number }> {
  const { signal } = msg;
  if (signal.kind === 'hangup') return { delivered: await settle(ctx, session, msg.call, signal.reason ?? 'cancelled') };
  if (signal.kind !== 'invite') {
    throw new RequestError('INVALID_REQUEST', 'Only an invite or a hang-up goes to a user_id; the other signals go to the connection that answered.');
  }
  const ring: UserRing = { call: msg.call, caller: session.cid, from: session.user, to: msg.to, invite: signal, expiresAt: Date.now() + USER_RING_MS };
  const cids = (await ctx.store.userConnections(msg.to)).filter((cid) => cid !== session.cid);
  if (cids.length === 0) {
    // Nobody to ring now: ring whichever connection of theirs comes up, if a push can bring one.
    await ctx.store.putRing(ring);
    try {
      await pushCall(ctx, ring);
    } catch (err) {
      await ctx.store.claimRing(ring.call, session.cid, session.user.user_id, 'cancelled');
      throw err;
    }
    return { delivered: 0 };
  }
  const { maxRingingCalls: maxRinging, maxActiveCalls: maxActive } = ctx.config.limits;
  const record = { call: ring.call, caller: session.cid, callee: cids[0]!, state: 'ringing' as const, createdAt: Date.now() };
  // The caps are checked once for the call, however many devices it rings (each then holds a ringing record).
  const outcome = await ctx.store.ringCall(record, { maxRinging, maxActive, staleBefore: record.createdAt - RING_STALE_MS });
  if (outcome === 'ringing_full' || outcome === 'active_full') {
    throw new RequestError('TOO_MANY_CALLS', `Too many ${outcome === 'ringing_full' ? 'ringing' : 'active'} calls on this connection; hang one up first.`);
  }
  await ctx.store.putRing(ring);
  for (const callee of cids.slice(1)) await ctx.store.putCall({ ...record, callee });
  return { delivered: await ctx.delivery.send(cids, inviteFrame(ring)) };
}

/**
 * A connection's accept or decline of a call that may be a ring: the first one settles it and
 * the other rung connections stop ringing. Returns false when an earlier claim won: the signal
 * is not relayed and the sender hears the call ended elsewhere.
 */
export async function claimRing(
  ctx: ServerContext,
  self: ConnectionRecord,
  caller: ConnectionRecord,
  call: string,
  kind: 'accept' | 'reject',
): Promise<boolean> {
  const claim = await ctx.store.claimRing(call, self.cid, self.user.user_id, kind === 'accept' ? 'answered' : 'declined');
  if (!claim || claim.ring.caller !== caller.cid) return true;
  if (claim.outcome === 'lost') {
    await ctx.store.deleteCall(call, self.cid, caller.cid);
    await ctx.delivery.send([self.cid], hangupFrame(claim.ring, ELSEWHERE[claim.end]));
    return false;
  }
  await stopOthers(ctx, claim.ring, self.cid, ELSEWHERE[claim.end]);
  return true;
}

/** The caller cancels (or its ring timer ends) a ring: every rung connection stops ringing. */
async function settle(ctx: ServerContext, caller: Session, call: string, reason: HangupReason): Promise<number> {
  const claim = await ctx.store.claimRing(call, caller.cid, caller.user.user_id, 'cancelled');
  if (!claim || claim.ring.caller !== caller.cid || claim.outcome === 'lost') return 0;
  return stopOthers(ctx, claim.ring, null, reason);
}

async function stopOthers(ctx: ServerContext, ring: UserRing, keep: string | null, reason: HangupReason): Promise<number> {
  const others = (await ctx.store.callsOf(ring.caller)).filter((r) => r.call === ring.call && r.state === 'ringing' && r.callee !== keep);
  for (const r of others) await ctx.store.deleteCall(r.call, r.caller, r.callee);
  if (others.length === 0) return 0;
  return ctx.delivery.send(
    others.map((r) => r.callee),
    hangupFrame(ring, reason),
  );
}

function hangupFrame(ring: UserRing, reason: HangupReason) {
  return buildFrame({
    type: 'rtc',
    call: ring.call,
    sender: ring.from.user_id,
    sender_cid: ring.caller,
    sender_name: ring.from.name,
    signal: { kind: 'hangup', reason },
  });
}

/** A connection came up: the calls ringing its user ring it too (a push may have brought it). */
export async function ringNewConnection(ctx: ServerContext, cid: string, userId: string): Promise<void> {
  try {
    for (const ring of await ctx.store.ringsFor(userId)) {
      if (ring.caller === cid || !(await ctx.store.getConnection(ring.caller))) continue;
      await ctx.store.putCall({ call: ring.call, caller: ring.caller, callee: cid, state: 'ringing', createdAt: Date.now() });
      await ctx.delivery.send([cid], inviteFrame(ring));
    }
  } catch (err) {
    ctx.log.warn({ cid, err: (err as Error).message }, 'could not ring a new connection');
  }
}

/** Sends the call push to the user's subscriptions (queued; delivered off this path). Throws when none can go out. */
async function pushCall(ctx: ServerContext, ring: UserRing): Promise<void> {
  // `always`: no connection was open a moment ago; one opening now rings anyway (the ring is stored).
  const outcome = await ctx.push?.notifyUser(ring.to, callPush(ring), { always: true });
  if (outcome && outcome.queued > 0) return;
  if (outcome?.code === 'PUSH_RATE_LIMITED') {
    throw new RequestError('PUSH_RATE_LIMITED', `User "${ring.to}" has no open connection and has had the most pushes this minute.`);
  }
  throw new RequestError('RECIPIENT_NOT_FOUND', `User "${ring.to}" has no open connection and no push subscription.`);
}
