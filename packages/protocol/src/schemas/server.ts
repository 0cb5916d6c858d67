import * as v from 'valibot';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import { callId, cid, finiteNumber, groupName, iceServer, jsonValue, noticeCode, requestId, rtcSignal, seqNumber, user, userId } from './common.js';

/**
 * A code from the registry. A code this version does not know (a newer server) still decodes,
 * as INTERNAL with the code kept in the message, so the request it answers fails at once
 * instead of waiting for its timeout.
 */
const errorCode = v.pipe(v.string(), v.regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'expected an error code'));

function knownCode<T extends { code: string; message: string }>(frame: T): Omit<T, 'code'> & { code: ErrorCode } {
  if (Object.hasOwn(ERROR_CODES, frame.code)) return frame as Omit<T, 'code'> & { code: ErrorCode };
  return { ...frame, code: 'INTERNAL', message: `${frame.code}: ${frame.message}` };
}
const nullableString = v.nullable(v.string());
/** Present on the frames a resume replays (docs/adr/0008-resume.md); absent when resume is off. */
const seq = v.optional(seqNumber);

export const limitsSchema = v.object({
  maxFrameBytes: finiteNumber,
  messagesPerSecond: finiteNumber,
  messageBurst: finiteNumber,
  maxConnectionsPerUser: finiteNumber,
  maxViolations: finiteNumber,
  violationWindowMs: finiteNumber,
  heartbeatMs: finiteNumber,
  maxNotificationBytes: finiteNumber,
});

/** Server → client frames, one schema per `type`. Sender fields are `null` when absent, as in Skapi. */
export const serverSchemas = {
  welcome: v.object({
    type: v.literal('welcome'),
    cid,
    user,
    limits: limitsSchema,
    iceServers: v.array(iceServer),
    /** Unix ms after which the TURN credentials in `iceServers` stop working; null when none expire. */
    iceExpiresAt: v.nullable(finiteNumber),
    node: v.string(),
    /** Opaque token to present (`?resume=`) when reconnecting after a drop; absent when resume is off. */
    resume: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(1024))),
    /** Only on a resume attempt: true = same cid, the missed frames follow; false = a new cid. */
    resumed: v.optional(v.boolean()),
    /** Why not resumed (`RESUME_REASONS`; a string so a newer server's reason still decodes). */
    resumeReason: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(64))),
    /** When resumed: the replay is frames lastSeq+1 … replayTo, sent right after this welcome. */
    replayTo: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER))),
  }),
  ack: v.object({ type: v.literal('ack'), id: requestId, result: v.unknown(), seq }),
  error: v.pipe(
    v.object({
      type: v.literal('error'),
      id: v.nullable(requestId),
      code: errorCode,
      message: v.string(),
      seq,
    }),
    v.transform(knownCode),
  ),
  message: v.object({
    type: v.literal('message'),
    message: jsonValue,
    sender: userId,
    sender_cid: cid,
    sender_rid: groupName,
    seq,
  }),
  private: v.object({
    type: v.literal('private'),
    message: jsonValue,
    sender: userId,
    sender_cid: cid,
    sender_rid: v.null(),
    seq,
  }),
  notice: v.object({
    type: v.literal('notice'),
    code: noticeCode,
    message: v.string(),
    sender: userId,
    sender_cid: cid,
    sender_rid: groupName,
    seq,
  }),
  rtc: v.object({
    type: v.literal('rtc'),
    call: callId,
    sender: userId,
    sender_cid: cid,
    sender_name: nullableString,
    signal: rtcSignal,
    seq,
  }),
  ice: v.object({ type: v.literal('ice'), iceServers: v.array(iceServer), iceExpiresAt: v.nullable(finiteNumber) }),
  pong: v.object({ type: v.literal('pong'), ts: v.optional(finiteNumber) }),
} as const;

export type ServerMessageType = keyof typeof serverSchemas;
export type ServerMessageOf<T extends ServerMessageType> = v.InferOutput<(typeof serverSchemas)[T]>;
export type ServerMessage = { [T in ServerMessageType]: ServerMessageOf<T> }[ServerMessageType];

/** Ack results, by request type. */
export const resultSchemas = {
  join: v.object({ group: v.nullable(v.string()) }),
  post: v.object({ delivered: finiteNumber }),
  rtc: v.object({ delivered: finiteNumber }),
  list_users: v.object({
    list: v.array(v.object({ user_id: userId, cid })),
    startKey: v.string(),
    endOfList: v.boolean(),
  }),
  list_groups: v.object({
    list: v.array(v.object({ group: v.string(), number_of_users: finiteNumber })),
    startKey: v.string(),
    endOfList: v.boolean(),
  }),
  ice: v.object({ iceServers: v.array(iceServer), iceExpiresAt: v.nullable(finiteNumber) }),
  /** Skapi's `vapidPublicKey()` shape: the key as base64url (an uncompressed P-256 point). */
  push_key: v.object({ VAPIDPublicKey: v.string() }),
  /** How many subscriptions the user has now. */
  push_subscribe: v.object({ subscriptions: finiteNumber }),
  /** Whether a subscription of this user had that endpoint. */
  push_unsubscribe: v.object({ removed: v.boolean() }),
} as const;

export type ResultOf<T extends keyof typeof resultSchemas> = v.InferOutput<(typeof resultSchemas)[T]>;
/** The client frame types that are requests (acked by id): every type but `ping`. */
export type RequestType = keyof typeof resultSchemas;
/**
 * The `result` of the ack to a `T` request: what the server's handler for `T` must return
 * (its handler map is typed with it) and what the SDK's request of type `T` resolves with.
 */
export type AckResultOf<T extends RequestType> = ResultOf<T>;
export type UsersPage = ResultOf<'list_users'>;
export type GroupsPage = ResultOf<'list_groups'>;
export type IceServer = v.InferOutput<typeof iceServer>;
export type RtcSignal = v.InferOutput<typeof rtcSignal>;
export type NoticeCode = v.InferOutput<typeof noticeCode>;
export type UserInfo = v.InferOutput<typeof user>;
export type WireLimits = v.InferOutput<typeof limitsSchema>;
export { callId as callIdSchema };
