import * as v from 'valibot';
import { PAGE_LIMIT_MAX } from '../limits.js';
import {
  callId,
  cid,
  finiteNumber,
  groupName,
  jsonValue,
  listCondition,
  notification,
  pushEndpoint,
  pushSubscription,
  recipient,
  requestId,
  rtcSignal,
  seqNumber,
  userId,
} from './common.js';

const pageOptions = {
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(PAGE_LIMIT_MAX))),
  startKey: v.optional(v.pipe(v.string(), v.maxLength(512))),
  ascending: v.optional(v.boolean()),
};

/**
 * On any client frame, with resume (docs/protocol.md §12): the highest `seq` the client has
 * processed. The server lets its replay buffer drop every frame through it, as a delivery
 * probe's pong would, without a probe: a client that sends anyway confirms for free.
 */
const received = { rx: v.optional(seqNumber) };

/** Client → server frames, one schema per `type`. */
export const clientSchemas = {
  /** Join a group (replacing the current one); `group: null` leaves. Acked with `{group}`. */
  join: v.object({ ...received, type: v.literal('join'), id: requestId, group: v.nullable(groupName) }),
  /**
   * `to` equal to the joined group broadcasts; `cid:…` targets one connection;
   * anything else is a user_id. Acked with `{delivered}`.
   */
  post: v.object({
    ...received,
    type: v.literal('post'),
    id: requestId,
    to: recipient,
    message: jsonValue,
    notification: v.optional(notification),
  }),
  list_users: v.object({
    ...received,
    type: v.literal('list_users'),
    id: requestId,
    group: v.optional(groupName),
    user_id: v.optional(userId),
    ...pageOptions,
  }),
  list_groups: v.object({
    ...received,
    type: v.literal('list_groups'),
    id: requestId,
    searchFor: v.picklist(['group', 'number_of_users']),
    value: v.union([v.pipe(v.string(), v.maxLength(256)), finiteNumber]),
    condition: v.optional(listCondition),
    range: v.optional(v.union([v.pipe(v.string(), v.maxLength(256)), finiteNumber])),
    ...pageOptions,
  }),
  /** Application heartbeat; the server answers `pong` with the same `ts`. */
  ping: v.object({ ...received, type: v.literal('ping'), ts: v.optional(finiteNumber) }),
  /**
   * Call signaling to one connection. With an `id` the server acks (`{delivered: 1}`) or errors.
   * `to` a user_id (not `cid:…`): an invite rings every connection of that user and a hang-up
   * cancels that; every other signal goes to a connection (docs/api.md, "Ringing a user").
   */
  rtc: v.pipe(
    v.object({ ...received, type: v.literal('rtc'), id: v.optional(requestId), to: v.union([cid, userId]), call: callId, signal: rtcSignal }),
    v.forward(
      v.check(
        (m) => (m.to.startsWith('cid:') ? m.to.length > 4 : m.signal.kind === 'invite' || m.signal.kind === 'hangup'),
        'expected a connection id ("cid:…"); a user_id only with an invite or a hang-up',
      ),
      ['to'],
    ),
  ),
  /** Ask for fresh ICE servers (TURN credentials); acked with `{iceServers, iceExpiresAt}`. */
  ice: v.object({ ...received, type: v.literal('ice'), id: requestId }),
  /** The server's VAPID public key (the browser's `applicationServerKey`); acked with `{VAPIDPublicKey}`. */
  push_key: v.object({ ...received, type: v.literal('push_key'), id: requestId }),
  /** Stores a Web Push subscription for this user (an endpoint belongs to one user); acked with `{subscriptions}`. */
  push_subscribe: v.object({ ...received, type: v.literal('push_subscribe'), id: requestId, subscription: pushSubscription }),
  /** Removes this user's subscription with that endpoint; acked with `{removed}`. */
  push_unsubscribe: v.object({ ...received, type: v.literal('push_unsubscribe'), id: requestId, subscription: pushEndpoint }),
} as const;

export type ClientMessageType = keyof typeof clientSchemas;
export type ClientMessageOf<T extends ClientMessageType> = v.InferOutput<(typeof clientSchemas)[T]>;
export type ClientMessage = { [T in ClientMessageType]: ClientMessageOf<T> }[ClientMessageType];
export type RequestMessage = Extract<ClientMessage, { id: number }>;
/** A Web Push subscription as the wire carries it (a browser PushSubscription's `toJSON()`). */
export type PushSubscriptionData = ClientMessageOf<'push_subscribe'>['subscription'];
