import * as v from 'valibot';
import { CALL_ID_MAX, CANDIDATE_MAX, DISPLAY_NAME_MAX, PUSH_ENDPOINT_MAX, RECIPIENT_MAX, SDP_MAX, USER_ID_MAX } from '../limits.js';

/** JSON numbers only: JSON.parse turns 1e400 into Infinity, which JSON.stringify would send on as null. */
export const finiteNumber = v.pipe(v.number(), v.finite());
export const requestId = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
/** Per-connection sequence number of a server frame (1, 2, …; see docs/adr/0008-resume.md). */
export const seqNumber = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER));
export const userId = v.pipe(v.string(), v.minLength(1), v.maxLength(USER_ID_MAX));
export const displayName = v.pipe(v.string(), v.maxLength(DISPLAY_NAME_MAX));
export const cid = v.pipe(v.string(), v.startsWith('cid:'), v.minLength(5), v.maxLength(RECIPIENT_MAX));
export const recipient = v.pipe(v.string(), v.minLength(1), v.maxLength(RECIPIENT_MAX));
/** Group names are checked for charset by the server handler so the error can say exactly what is wrong. */
export const groupName = v.pipe(v.string(), v.maxLength(RECIPIENT_MAX));
export const callId = v.pipe(v.string(), v.minLength(1), v.maxLength(CALL_ID_MAX), v.regex(/^[A-Za-z0-9_-]+$/));

/** Any JSON value except `undefined` (which JSON cannot carry): falsy values are real payloads. */
export const jsonValue = v.pipe(
  v.unknown(),
  v.check((value) => value !== undefined, 'A value is required (any JSON value; use null for none).'),
);

export const user = v.object({ user_id: userId, name: v.nullable(displayName) });

export const iceServer = v.object({
  urls: v.union([v.string(), v.array(v.string())]),
  username: v.optional(v.string()),
  credential: v.optional(v.string()),
});

export const sessionDescription = v.object({
  type: v.picklist(['offer', 'answer', 'pranswer', 'rollback']),
  sdp: v.optional(v.pipe(v.string(), v.maxLength(SDP_MAX))),
});

export const iceCandidate = v.object({
  candidate: v.pipe(v.string(), v.maxLength(CANDIDATE_MAX)),
  sdpMid: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(64)))),
  sdpMLineIndex: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1024)))),
  usernameFragment: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(256)))),
});

export const mediaKinds = v.object({ audio: v.boolean(), video: v.boolean() });

/**
 * Which peer connection of a call a description or candidate belongs to: 0 (or absent)
 * for the first, then +1 each time the call replaces its peer connection (a "renewal":
 * the ICE restart of stacks that cannot restart ICE in place, such as libdatachannel).
 */
const peerGeneration = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535)));

/** The signals of a running negotiation: also sent peer to peer on the control channel (schemas/control.ts). */
export const descriptionSignal = v.object({ kind: v.literal('description'), description: sessionDescription, pc: peerGeneration });
export const candidateSignal = v.object({ kind: v.literal('candidate'), candidate: v.nullable(iceCandidate), pc: peerGeneration });

/**
 * Call signals. The server relays them between two connections without reading
 * SDP; it only tracks `invite`/`accept`/`reject`/`hangup` to know which calls ring.
 * `candidate: null` is end-of-candidates.
 */
export const rtcSignal = v.variant('kind', [
  v.object({
    kind: v.literal('invite'),
    media: v.optional(mediaKinds),
    channels: v.optional(v.pipe(v.array(v.pipe(v.string(), v.maxLength(64))), v.maxLength(64))),
  }),
  v.object({ kind: v.literal('accept') }),
  v.object({ kind: v.literal('reject'), reason: v.picklist(['rejected', 'busy']) }),
  v.object({
    kind: v.literal('hangup'),
    /** `answered_elsewhere` / `declined_elsewhere`: a call to a user_id was taken or declined on another of the callee's connections. */
    reason: v.optional(v.picklist(['hangup', 'cancelled', 'timeout', 'peer_gone', 'ice_failed', 'error', 'answered_elsewhere', 'declined_elsewhere'])),
  }),
  descriptionSignal,
  candidateSignal,
]);

export const noticeCode = v.picklist(['USER_JOINED', 'USER_LEFT', 'USER_DISCONNECTED']);

export const notification = v.object({
  title: v.string(),
  body: v.string(),
  config: v.optional(v.object({ always: v.optional(v.boolean()) })),
});

/** Base64url (RFC 4648 §5), padding tolerated: the keys of a PushSubscription. */
const base64url = (max: number) => v.pipe(v.string(), v.minLength(1), v.maxLength(max), v.regex(/^[A-Za-z0-9_-]+=*$/, 'expected base64url'));

/** A browser's PushSubscription as `toJSON()` gives it (RFC 8030 endpoint, RFC 8291 keys). */
export const pushSubscription = v.object({
  endpoint: v.pipe(v.string(), v.maxLength(PUSH_ENDPOINT_MAX), v.startsWith('https://', 'expected an https:// push service URL')),
  expirationTime: v.optional(v.nullable(finiteNumber)),
  keys: v.object({ p256dh: base64url(128), auth: base64url(64) }),
});

/** What unsubscribing needs: the endpoint (the keys, when given, are ignored). */
export const pushEndpoint = v.object({ endpoint: v.pipe(v.string(), v.minLength(1), v.maxLength(PUSH_ENDPOINT_MAX)) });

export const listCondition = v.picklist(['>', '>=', '=', '<', '<=', '!=', 'gt', 'gte', 'eq', 'lt', 'lte', 'ne']);
