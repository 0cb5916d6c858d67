/** Defaults for the limits a server enforces; the welcome frame reports the ones in force. */
export const DEFAULT_LIMITS = {
  /** Largest inbound frame, in bytes (Skapi's platform limit was 128 KB too). */
  maxFrameBytes: 128 * 1024,
  /** Sustained inbound messages per second per connection (token bucket refill rate). */
  messagesPerSecond: 50,
  /** Token bucket size: how many messages may arrive in a burst. */
  messageBurst: 100,
  /** Open connections one user may hold at once. */
  maxConnectionsPerUser: 20,
  /** Errors a connection may cause within `violationWindowMs` before it is closed (4500). */
  maxViolations: 20,
  violationWindowMs: 10_000,
  /** Heartbeat interval; a peer silent for two intervals is dropped. */
  heartbeatMs: 15_000,
  /** Notification `{title, body}` as JSON, in bytes (Skapi's 3 KB rule). */
  maxNotificationBytes: 3072,
} as const;

export type Limits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number };

/**
 * Deepest nesting of objects and arrays in one frame, the frame object itself being level 1
 * (so a post's `message` may nest 63 levels). Deeper frames get INVALID_PARAMETER: without a
 * bound, a 10 KB frame nested thousands of levels exhausts the stack of any recursive walk
 * (JSON.stringify when relaying it, schema checks).
 */
export const MAX_NESTING_DEPTH = 64;

/**
 * Rate-limited frames are answered RATE_LIMITED but are not policy violations: an honest client
 * may overshoot the bucket. Only a flood, more than this many times `messageBurst` rate-limited
 * frames within `violationWindowMs`, closes the connection (4500).
 */
export const RATE_LIMIT_FLOOD_FACTOR = 5;

export const GROUP_NAME_MAX = 64;
export const USER_ID_MAX = 128;
export const DISPLAY_NAME_MAX = 64;
export const RECIPIENT_MAX = 256;
/** A Web Push subscription's endpoint URL (the push services' own are well under 1 KB). */
export const PUSH_ENDPOINT_MAX = 2048;
export const CALL_ID_MAX = 64;
export const SDP_MAX = 64 * 1024;
export const CANDIDATE_MAX = 1024;
export const PAGE_LIMIT_MAX = 1000;
export const PAGE_LIMIT_DEFAULT = 100;

/**
 * Group names: 1–64 characters; letters (with their combining marks) and digits of any
 * script, space inside the name, and `_ - . @ # + ~ ! :`. `cid:` is reserved for connection ids, so a
 * group can never be mistaken for one.
 */
export const GROUP_NAME_PATTERN = /^(?! )[\p{L}\p{M}\p{N} _\-.@#+~!:]{1,64}(?<! )$/u;

export function groupNameProblem(name: string): string | null {
  if (name.length === 0) return 'Group name must not be empty.';
  if (name.length > GROUP_NAME_MAX) return `Group name must be at most ${GROUP_NAME_MAX} characters.`;
  if (name.startsWith('cid:')) return 'Group name must not start with "cid:" (reserved for connection ids).';
  if (!GROUP_NAME_PATTERN.test(name)) {
    return 'Group name may contain letters, digits, spaces (not at either end) and _ - . @ # + ~ ! : only.';
  }
  return null;
}

export const CID_PREFIX = 'cid:';
export const isCid = (value: string): boolean => value.startsWith(CID_PREFIX) && value.length > CID_PREFIX.length;
