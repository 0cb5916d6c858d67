/**
 * The one registry of error codes. Every error the server sends and every
 * SwitchboardError the SDK throws uses a code from here; the README's table is
 * generated from this object and a test fails when it is stale.
 */
export const ERROR_CODES = {
  INVALID_REQUEST: {
    retryable: false,
    description: 'The request is not valid in the current state (Skapi code), e.g. posting to a group you have not joined.',
  },
  INVALID_PARAMETER: { retryable: false, description: 'A parameter has the wrong type, format or length (Skapi code).' },
  NOT_SUPPORTED: { retryable: false, description: 'The feature is not available in this environment, e.g. media in Node (Skapi code).' },
  MALFORMED_FRAME: { retryable: false, description: 'The frame is not valid JSON or not a JSON object with a string `type`.' },
  UNKNOWN_TYPE: { retryable: false, description: 'The frame `type` is not part of the protocol.' },
  UNAUTHORIZED: { retryable: false, description: 'Missing or invalid token (HTTP 401 at the upgrade).' },
  TOKEN_EXPIRED: { retryable: false, description: 'The token has expired; mint a new one and reconnect.' },
  FORBIDDEN: { retryable: false, description: 'Authenticated, but not allowed, e.g. signaling a connection that shares no group with you.' },
  GUESTS_DISABLED: { retryable: false, description: 'Guest tokens are turned off on this server.' },
  RATE_LIMITED: {
    retryable: true,
    description: 'Too many messages per second on this connection, or too many guest tokens from one address (HTTP 429 with Retry-After); slow down.',
  },
  PAYLOAD_TOO_LARGE: { retryable: false, description: 'The frame or a field is over its size limit.' },
  TOO_MANY_CONNECTIONS: {
    retryable: true,
    description: 'The user, or the client address, already has the maximum number of open connections (HTTP 429 at the upgrade).',
  },
  TOO_MANY_CALLS: {
    retryable: true,
    description: 'The connection (or the other side) already has the maximum number of ringing or active calls; end one first.',
  },
  RECIPIENT_NOT_FOUND: { retryable: false, description: 'No open connection matches the recipient (cid or user_id).' },
  TIMEOUT: { retryable: true, description: 'No acknowledgement arrived in time.' },
  CONNECTION_CLOSED: { retryable: true, description: 'The realtime connection is closed or closed before the request completed.' },
  SERVER_UNAVAILABLE: { retryable: true, description: 'The server is shutting down or a backing service (e.g. Redis) is unreachable.' },
  CERTIFICATE_UNTRUSTED: {
    retryable: false,
    description:
      "The server's TLS certificate is not trusted by this client (self-signed, unknown CA, expired or for another name); Node: trust it with NODE_EXTRA_CA_CERTS or the `ca` option.",
  },
  INTERNAL: { retryable: true, description: 'An unexpected server error; the request may be retried.' },
  RTC_REJECTED: { retryable: false, description: 'The callee declined the call.' },
  RTC_BUSY: { retryable: true, description: 'The callee declined the call as busy.' },
  RTC_CANCELLED: { retryable: false, description: 'The caller hung up while the call was ringing.' },
  RTC_TIMEOUT: { retryable: true, description: 'Nobody answered within the ring timeout.' },
  RTC_PEER_GONE: { retryable: false, description: "The other side's connection went away." },
  RTC_ICE_FAILED: { retryable: true, description: 'No network path between the peers after ICE restarts; usually TURN is missing or unreachable.' },
  RTC_CALL_NOT_FOUND: { retryable: false, description: 'A signal referred to a call that does not exist (or no longer exists).' },
  TOO_MANY_SUBSCRIPTIONS: {
    retryable: false,
    description: 'The user already has the maximum number of Web Push subscriptions (push.maxSubscriptionsPerUser); unsubscribe one first.',
  },
  PUSH_RATE_LIMITED: {
    retryable: true,
    description: 'The recipient is offline and has had the maximum number of pushes this minute (push.perUserPerMinute); the message was not delivered.',
  },
  GROUP_CALL_FULL: {
    retryable: true,
    description: 'The group call already has its maximum number of participants (6 by default); try again when someone leaves.',
  },
} as const satisfies Record<string, { retryable: boolean; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/**
 * WebSocket close codes. 4000–4499: the client reconnects. 4500–4999: it does
 * not (terminal). 1000 is a normal close requested by the client.
 */
export const CLOSE_CODES = {
  SERVER_SHUTDOWN: { code: 4000, reconnect: true, description: 'The server is shutting down gracefully; reconnect (to another node).' },
  HEARTBEAT_TIMEOUT: {
    code: 4001,
    reconnect: true,
    description:
      'Sent by the SDK when the server was silent for two heartbeat intervals (the server itself terminates silent clients without a close frame: 1006).',
  },
  SLOW_CONSUMER: { code: 4002, reconnect: true, description: 'The client did not read fast enough and its send buffer overflowed.' },
  NODE_LOST: { code: 4003, reconnect: true, description: 'The node lost its backing store; reconnect to rebuild state.' },
  TOKEN_EXPIRED: {
    code: 4004,
    reconnect: true,
    description: 'The token expired while connected; reconnect with a fresh token (the SDK asks its token provider again).',
  },
  PAGE_HIDDEN: {
    code: 4005,
    reconnect: true,
    description:
      'Sent by the SDK when its page goes into the back/forward cache; the server keeps the connection for a resume (docs/protocol.md §12) and the SDK resumes it when the page is shown again.',
  },
  POLICY_VIOLATION: {
    code: 4500,
    reconnect: false,
    description: 'Repeated invalid or oversized frames, or a flood of rate-limited ones; do not reconnect automatically.',
  },
  UNAUTHORIZED: { code: 4501, reconnect: false, description: 'The credentials are no longer accepted (e.g. the signing secret was rotated out).' },
} as const;

export type CloseCodeName = keyof typeof CLOSE_CODES;

/** The standard WebSocket close codes (RFC 6455) Switchboard uses besides its own (plain constants: bundlers inline them). */
export const WS_CLOSE_NORMAL = 1000;
export const WS_CLOSE_ABNORMAL = 1006;
/** Sent by a browser whose page is going away (closed, navigated): that page will not resume. */
export const WS_CLOSE_GOING_AWAY = 1001;

/** 4500–4999: the server asks the client not to reconnect (the registry's `reconnect: false` codes, and any later one in the range). */
export function isTerminalCloseCode(code: number): boolean {
  return code >= 4500 && code <= 4999;
}

export function closeCodeReconnects(code: number): boolean {
  return !isTerminalCloseCode(code) && code !== WS_CLOSE_NORMAL;
}

/** The registry's entry for a close code (its name, meaning and reconnect rule), or undefined. */
export function closeCodeEntry(code: number): { name: CloseCodeName; code: number; reconnect: boolean; description: string } | undefined {
  for (const [name, entry] of Object.entries(CLOSE_CODES)) if (entry.code === code) return { ...entry, name: name as CloseCodeName };
  return undefined;
}
