// fast-check arbitraries that generate every VALID client and server message. The mapped types
// make a missing message type a type error; fixtures.test.ts / property.test.ts check at runtime too.
import fc from 'fast-check';
import {
  CALL_ID_MAX,
  CANDIDATE_MAX,
  ERROR_CODES,
  PAGE_LIMIT_MAX,
  RECIPIENT_MAX,
  SDP_MAX,
  USER_ID_MAX,
  type ClientMessageOf,
  type ClientMessageType,
  type ErrorCode,
  type IceServer,
  type RtcSignal,
  type ServerMessageOf,
  type ServerMessageType,
  type WireLimits,
} from '@switchboard/protocol';

/** Re-parse through JSON so values are exactly what JSON can carry (no -0, no undefined). */
const viaJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Any string whose UTF-16 length is at most `max` (code points may be astral or lone surrogates). */
const text = (max: number, min = 0) => fc.string({ unit: 'binary', minLength: min, maxLength: max }).filter((s) => s.length >= min && s.length <= max);
/** A finite double as JSON carries it (no -0). */
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n));
const integer = (min: number, max: number) => fc.integer({ min, max });

export const requestId = fc.oneof(fc.maxSafeNat(), integer(0, 1000));
export const userId = text(USER_ID_MAX, 1);
export const cid = text(RECIPIENT_MAX - 4, 1).map((s) => `cid:${s}`);
export const groupName = text(RECIPIENT_MAX);
export const recipient = fc.oneof(text(RECIPIENT_MAX, 1), cid);
export const callId = fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{1,${CALL_ID_MAX}}$`));
export const jsonValue = fc.jsonValue({ maxDepth: 4 }).map(viaJson);
/** A record whose keys outside `required` may be absent (never present-but-undefined). Plain prototype, as JSON.parse makes. */
const optional = <T extends Record<string, unknown>>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }, required: Array<keyof T>) =>
  fc.record(model, { requiredKeys: required as never[], noNullPrototype: true }) as fc.Arbitrary<T>;
/** A record with every key present. */
const record = <T extends Record<string, unknown>>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }) =>
  fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;

export const iceServer: fc.Arbitrary<IceServer> = optional<IceServer>(
  { urls: fc.oneof(text(100), fc.array(text(100), { maxLength: 4 })), username: text(100), credential: text(100) },
  ['urls'],
);

const nullableText = (max: number) => fc.option(text(max), { nil: null });
const candidate = fc.option(
  optional(
    {
      candidate: text(CANDIDATE_MAX),
      sdpMid: nullableText(64),
      sdpMLineIndex: fc.option(integer(0, 1024), { nil: null }),
      usernameFragment: nullableText(256),
    },
    ['candidate'],
  ),
  { nil: null },
);

export const rtcSignal: fc.Arbitrary<RtcSignal> = fc.oneof(
  optional(
    {
      kind: fc.constant('invite' as const),
      media: record({ audio: fc.boolean(), video: fc.boolean() }),
      channels: fc.array(text(64), { maxLength: 64 }),
    },
    ['kind'],
  ),
  fc.constant({ kind: 'accept' as const }),
  record({ kind: fc.constant('reject' as const), reason: fc.constantFrom('rejected' as const, 'busy' as const) }),
  optional(
    {
      kind: fc.constant('hangup' as const),
      reason: fc.constantFrom('hangup', 'cancelled', 'timeout', 'peer_gone', 'ice_failed', 'error') as fc.Arbitrary<
        'hangup' | 'cancelled' | 'timeout' | 'peer_gone' | 'ice_failed' | 'error'
      >,
    },
    ['kind'],
  ),
  record({
    kind: fc.constant('description' as const),
    description: optional(
      {
        type: fc.constantFrom('offer', 'answer', 'pranswer', 'rollback') as fc.Arbitrary<'offer' | 'answer' | 'pranswer' | 'rollback'>,
        // Mostly short SDP, sometimes right at the limit.
        sdp: fc.oneof({ weight: 9, arbitrary: text(2000) }, { weight: 1, arbitrary: fc.constant('s'.repeat(SDP_MAX)) }),
      },
      ['type'],
    ),
  }),
  record({ kind: fc.constant('candidate' as const), candidate }),
);

const pageLimit = integer(1, PAGE_LIMIT_MAX);
const base64url = (min: number, max: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{${min},${max}}$`));
const condition = fc.constantFrom('>', '>=', '=', '<', '<=', '!=', 'gt', 'gte', 'eq', 'lt', 'lte', 'ne') as fc.Arbitrary<
  NonNullable<ClientMessageOf<'list_groups'>['condition']>
>;
const stringOrNumber = fc.oneof(text(256), finite);

export const clientMessages: { [T in ClientMessageType]: fc.Arbitrary<ClientMessageOf<T>> } = {
  join: record({ type: fc.constant('join' as const), id: requestId, group: fc.option(groupName, { nil: null }) }),
  post: optional<ClientMessageOf<'post'>>(
    {
      type: fc.constant('post' as const),
      id: requestId,
      to: recipient,
      message: jsonValue,
      notification: optional({ title: text(200), body: text(1000), config: optional({ always: fc.boolean() }, []) }, ['title', 'body']),
    },
    ['type', 'id', 'to', 'message'],
  ),
  list_users: optional<ClientMessageOf<'list_users'>>(
    {
      type: fc.constant('list_users' as const),
      id: requestId,
      group: groupName,
      user_id: userId,
      limit: pageLimit,
      startKey: text(512),
      ascending: fc.boolean(),
    },
    ['type', 'id'],
  ),
  list_groups: optional<ClientMessageOf<'list_groups'>>(
    {
      type: fc.constant('list_groups' as const),
      id: requestId,
      searchFor: fc.constantFrom('group', 'number_of_users') as fc.Arbitrary<'group' | 'number_of_users'>,
      value: stringOrNumber,
      condition,
      range: stringOrNumber,
      limit: pageLimit,
      startKey: text(512),
      ascending: fc.boolean(),
    },
    ['type', 'id', 'searchFor', 'value'],
  ),
  ping: optional<ClientMessageOf<'ping'>>({ type: fc.constant('ping' as const), ts: finite }, ['type']),
  rtc: optional<ClientMessageOf<'rtc'>>({ type: fc.constant('rtc' as const), id: requestId, to: cid, call: callId, signal: rtcSignal }, [
    'type',
    'to',
    'call',
    'signal',
  ]),
  ice: record({ type: fc.constant('ice' as const), id: requestId }),
  push_key: record({ type: fc.constant('push_key' as const), id: requestId }),
  push_subscribe: record({
    type: fc.constant('push_subscribe' as const),
    id: requestId,
    subscription: optional<ClientMessageOf<'push_subscribe'>['subscription']>(
      {
        endpoint: fc.webUrl({ validSchemes: ['https'] }).map((url) => url.slice(0, 2048)),
        expirationTime: fc.option(finite, { nil: null }),
        keys: record({ p256dh: base64url(1, 128), auth: base64url(1, 64) }),
      },
      ['endpoint', 'keys'],
    ),
  }),
  push_unsubscribe: record({
    type: fc.constant('push_unsubscribe' as const),
    id: requestId,
    subscription: record({ endpoint: text(2048, 1) }),
  }),
};

const limits: fc.Arbitrary<WireLimits> = record({
  maxFrameBytes: finite,
  messagesPerSecond: finite,
  messageBurst: finite,
  maxConnectionsPerUser: finite,
  maxViolations: finite,
  violationWindowMs: finite,
  heartbeatMs: finite,
  maxNotificationBytes: finite,
});
const errorCode = fc.constantFrom(...(Object.keys(ERROR_CODES) as ErrorCode[]));
const user = record({ user_id: userId, name: fc.option(text(64), { nil: null }) });
const expiresAt = fc.option(finite, { nil: null });

export const serverMessages: { [T in ServerMessageType]: fc.Arbitrary<ServerMessageOf<T>> } = {
  welcome: record({
    type: fc.constant('welcome' as const),
    cid,
    user,
    limits,
    iceServers: fc.array(iceServer, { maxLength: 3 }),
    iceExpiresAt: expiresAt,
    node: text(64),
  }),
  ack: record({ type: fc.constant('ack' as const), id: requestId, result: jsonValue }),
  error: record({
    type: fc.constant('error' as const),
    id: fc.option(requestId, { nil: null }),
    code: errorCode,
    message: text(300),
  }),
  message: record({
    type: fc.constant('message' as const),
    message: jsonValue,
    sender: userId,
    sender_cid: cid,
    sender_rid: groupName,
  }),
  private: record({
    type: fc.constant('private' as const),
    message: jsonValue,
    sender: userId,
    sender_cid: cid,
    sender_rid: fc.constant(null),
  }),
  notice: record({
    type: fc.constant('notice' as const),
    code: fc.constantFrom('USER_JOINED', 'USER_LEFT', 'USER_DISCONNECTED') as fc.Arbitrary<'USER_JOINED' | 'USER_LEFT' | 'USER_DISCONNECTED'>,
    message: text(300),
    sender: userId,
    sender_cid: cid,
    sender_rid: groupName,
  }),
  rtc: record({
    type: fc.constant('rtc' as const),
    call: callId,
    sender: userId,
    sender_cid: cid,
    sender_name: fc.option(text(64), { nil: null }),
    signal: rtcSignal,
  }),
  ice: record({ type: fc.constant('ice' as const), iceServers: fc.array(iceServer, { maxLength: 3 }), iceExpiresAt: expiresAt }),
  pong: optional<ServerMessageOf<'pong'>>({ type: fc.constant('pong' as const), ts: finite }, ['type']),
};

export const anyClientMessage = fc.oneof(...Object.values(clientMessages));
export const anyServerMessage = fc.oneof(...Object.values(serverMessages));
