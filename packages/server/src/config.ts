/**
 * The one server configuration: a valibot schema, its defaults, and
 * `resolveConfig` (defaults ← input). Layering file ← env ← flags lives in
 * config-sources.ts. Every error names the setting path, e.g.
 * `limits.maxFrameBytes: expected a number between 1024 and 16777216, got "abc"`.
 */
import * as v from 'valibot';
import { DEFAULT_LIMITS } from '@switchboard/protocol';
import { redactUrl } from './redact.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const TLS_MODES = ['self-signed', 'files', 'off'] as const;
export type TlsMode = (typeof TLS_MODES)[number];
export const GUEST_LISTING = ['all', 'own-group'] as const;
export const DEFAULT_STUN_PORT = 3478;

/** A whole number in [min, max]: every number setting has an upper bound. */
const num = (min: number, max: number) => {
  const msg = `expected a number between ${min} and ${max}`;
  return v.pipe(v.number(msg), v.integer('expected a whole number'), v.minValue(min, msg), v.maxValue(max, msg));
};
/** Node arms no timer longer than this: a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** A duration in milliseconds; never above what a timer can hold. */
const ms = (min: number, max: number) => num(min, Math.min(max, MAX_TIMER_MS));
const MiB = 1024 * 1024;
const bool = v.boolean('expected true or false');
const text = v.pipe(v.string('expected a non-empty string'), v.minLength(1, 'expected a non-empty string'));
const optionalText = v.nullable(text);
const urlList = (schemes: string[]) => {
  const msg = `expected a URL starting with ${schemes.map((s) => `"${s}:"`).join(' or ')}`;
  return v.array(
    v.pipe(
      v.string(msg),
      v.check((s) => schemes.some((scheme) => s.startsWith(`${scheme}:`)), msg),
    ),
    'expected a list of URLs',
  );
};
const obj = <E extends v.ObjectEntries>(entries: E) => v.strictObject(entries, 'expected an object with known settings only');

const limitsSchema = obj({
  maxFrameBytes: num(1024, 16 * MiB),
  messagesPerSecond: num(1, 1_000_000),
  messageBurst: num(1, 1_000_000),
  maxConnectionsPerUser: num(1, 100_000),
  /** Server only: open WebSocket connections per client address (IPv6: per /64), per node; 0: no limit. */
  maxConnectionsPerAddress: num(0, 1_000_000),
  /** Server only: POST /v1/guest per client address per minute (also the burst); 0: no limit. */
  guestTokensPerMinute: num(0, 1_000_000),
  /** Server only: POST /v1/users and /v1/groups per user per minute (also the burst); 0: no limit. */
  httpListingsPerMinute: num(0, 1_000_000),
  maxViolations: num(1, 100_000),
  violationWindowMs: ms(1, 60 * 60_000),
  maxNotificationBytes: num(64, MiB),
  /** Server only: a connection whose unsent bytes exceed this is closed with SLOW_CONSUMER (4002). */
  maxBufferedBytes: num(64 * 1024, 1024 * MiB),
  /** Server only: outgoing calls one connection may have ringing at once. */
  maxRingingCalls: num(1, 1000),
  /** Server only: accepted calls one connection (caller or callee) may have at once. */
  maxActiveCalls: num(1, 1000),
});

/** VAPID keys as web-push makes them: base64url, a 65-byte uncompressed P-256 point and a 32-byte scalar. */
const VAPID_PUBLIC = /^[A-Za-z0-9_-]{87}$/;
const VAPID_PRIVATE = /^[A-Za-z0-9_-]{43}$/;
const vapidKey = (re: RegExp, what: string) => v.nullable(v.pipe(v.string(`expected ${what}`), v.regex(re, `expected ${what}`)));

const pushSchema = obj({
  enabled: bool,
  /** The VAPID key pair (both or neither); null: generated once and kept in <dataDir>/vapid.json (in a cluster: in Redis). */
  vapidPublicKey: vapidKey(VAPID_PUBLIC, 'an 87-character base64url P-256 public key'),
  vapidPrivateKey: vapidKey(VAPID_PRIVATE, 'a 43-character base64url P-256 private key'),
  /** Older pairs as "<publicKey>:<privateKey>", still signing pushes to the subscriptions made with them (key rotation). */
  previousVapidKeys: v.array(
    v.pipe(
      v.string('expected "<publicKey>:<privateKey>"'),
      v.check((s) => /^[A-Za-z0-9_-]{87}:[A-Za-z0-9_-]{43}$/.test(s), 'expected "<publicKey>:<privateKey>" (base64url, 87 and 43 characters)'),
    ),
    'expected a list of "<publicKey>:<privateKey>"',
  ),
  /** RFC 8292 contact the push services see: mailto: or https:. */
  subject: v.pipe(
    v.string('expected a mailto: or https: URL'),
    v.check((s) => /^(mailto:.+|https:\/\/.+)$/.test(s), 'expected a mailto: or https: URL'),
  ),
  maxSubscriptionsPerUser: num(1, 1000),
  /** Pushes one user may get per minute (across the cluster); 0: no limit. */
  perUserPerMinute: num(0, 100_000),
  /** Pushes waiting to be sent (or retried) on this node; more are dropped and counted. */
  queueSize: num(1, 1_000_000),
  /** Requests to push services in flight at once, per node. */
  concurrency: num(1, 1000),
  /** Attempts after the first for a network error, a timeout, 429 or 5xx; backoff doubles from retryBaseMs. */
  retries: num(0, 20),
  retryBaseMs: ms(1, 10 * 60_000),
  /** How long the push service keeps an undelivered push (the TTL header). */
  ttlSeconds: num(0, 28 * 24 * 60 * 60),
  /** A push service that has not answered after this fails the attempt. */
  timeoutMs: ms(100, 120_000),
  /** Accept endpoints on loopback, private and link-local addresses (a push service on your own network); off: any user could aim the server's requests at it. */
  allowPrivateEndpoints: bool,
});

export const configSchema = obj({
  port: num(0, 65535),
  host: v.pipe(text, v.maxLength(253, 'expected a host name or address')),
  tls: obj({
    mode: v.picklist(TLS_MODES, `expected one of ${TLS_MODES.join(', ')}`),
    cert: optionalText,
    key: optionalText,
  }),
  dataDir: text,
  guests: bool,
  /** Guests' getRealtimeUsers/getRealtimeGroups: "all" (Skapi: any group) or "own-group" (only the joined one). */
  guestListing: v.picklist(GUEST_LISTING, `expected one of ${GUEST_LISTING.join(', ')}`),
  /** Proxies in front of the server whose X-Forwarded-For is believed (0: none, the TCP peer is the client). */
  trustProxy: num(0, 32),
  /** The URL users reach this server at (GET /v1/info); null: built from the bound address, never from Host. */
  publicUrl: v.nullable(v.pipe(v.string('expected a URL'), v.url('expected an http(s) URL'), v.regex(/^https?:\/\//i, 'expected an http(s) URL'))),
  auth: obj({
    /** HS256 secrets; the first signs, any verifies (rotation). Empty: a random secret kept in dataDir. */
    secrets: v.array(v.pipe(v.string('expected a string'), v.minLength(16, 'expected a secret of at least 16 characters')), 'expected a list of secrets'),
    guestTtlSeconds: num(60, 365 * 24 * 60 * 60),
    /** URL of a JWKS document (your identity provider's public keys): RS/PS/ES/EdDSA tokens verify against it. */
    jwks: v.nullable(v.pipe(v.string('expected a URL'), v.url('expected an http(s) URL'), v.regex(/^https?:\/\//i, 'expected an http(s) URL'))),
    /** Required `iss` of JWKS-verified tokens (null: not checked). */
    issuer: v.nullable(v.pipe(v.string('expected a string'), v.minLength(1, 'expected a non-empty string'))),
    /** Required `aud` of JWKS-verified tokens (null: not checked). */
    audience: v.nullable(v.pipe(v.string('expected a string'), v.minLength(1, 'expected a non-empty string'))),
  }),
  limits: limitsSchema,
  heartbeatMs: ms(10, 10 * 60_000),
  rtc: obj({
    allowAnyPair: bool,
    /** How long the ack of a relayed description or candidate may wait for the next frame to the same socket, to leave in one write with it; 0: at once. */
    ackDelayMs: ms(0, 1_000),
  }),
  ice: obj({
    stun: urlList(['stun', 'stuns']),
    turn: urlList(['turn', 'turns']),
    turnSecrets: v.array(text, 'expected a list of secrets'),
    turnTtlSeconds: num(1, 7 * 24 * 60 * 60),
  }),
  /** The server's own STUN responder (UDP): Binding requests only, rate-limited per address. */
  stun: obj({
    enabled: bool,
    /** UDP port (3478: the STUN default; when the HTTP port is 0, the default becomes an ephemeral port too). */
    port: num(0, 65535),
    /** Address to bind; null: the server's host. */
    host: v.nullable(v.pipe(text, v.maxLength(253, 'expected a host name or address'))),
    /** Binding responses per second to one source address (IPv6: per /64); twice that as a burst. */
    perAddressPerSecond: num(1, 100_000),
  }),
  cors: obj({
    origins: v.array(
      v.pipe(
        v.string('expected "*" or an origin like https://app.example.com'),
        v.check((s) => s === '*' || /^https?:\/\/[^/]+$/.test(s), 'expected "*" or an origin like https://app.example.com'),
      ),
      'expected a list of origins',
    ),
  }),
  staticDir: optionalText,
  logLevel: v.picklist(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(', ')}`),
  /** Node id reported in `welcome`; random when null. Unique per node in a cluster. */
  nodeId: v.nullable(v.pipe(text, v.maxLength(128, 'expected at most 128 characters'))),
  /** Redis URL (redis:// or rediss://): run as one node of a cluster. null: single node, state in memory. */
  redis: v.nullable(
    v.pipe(
      v.string('expected a URL starting with "redis:" or "rediss:"'),
      v.check((s) => /^rediss?:\/\/[^\s]*$/.test(s), 'expected a URL starting with "redis:" or "rediss:"'),
      v.check((s) => URL.canParse(s) && new URL(s).hostname !== '', 'expected a URL like redis://host:6379 (a host, a valid port)'),
    ),
  ),
  cluster: obj({
    /** How often a node writes its heartbeat to Redis (and looks for dead nodes). */
    heartbeatMs: ms(50, 60_000),
    /** A node whose heartbeat is older than this is dead: a survivor disconnects its connections. */
    nodeTimeoutMs: ms(200, 10 * 60_000),
    /** Prefix of every Redis key and channel (several clusters can share one Redis). */
    prefix: v.pipe(v.string('expected a string'), v.maxLength(64, 'expected at most 64 characters')),
    /** How long `listen()` waits for Redis before failing. */
    connectTimeoutMs: ms(100, 5 * 60_000),
    /** A Redis command without a reply after this fails, and Redis counts as stalled (requests answer SERVER_UNAVAILABLE). */
    commandTimeoutMs: num(50, 60_000),
    /** How often Redis is asked PING to notice a stall (no answer within min(commandTimeoutMs, this)), and a recovery. */
    probeIntervalMs: ms(50, 60_000),
  }),
  /** Web Push for postRealtime's notification (push/): see the README's Web Push section. */
  push: pushSchema,
  /** Session resume (docs/adr/0008-resume.md). */
  resume: obj({
    /** How long a dropped connection keeps its cid, group and calls for a resume; 0 turns resume off. */
    windowMs: ms(0, 10 * 60_000),
    /** Frames kept per connection for replay; a resume that needs a frame pushed out fails (overflowed). */
    maxBufferedFrames: num(1, 1_000_000),
    /** Bytes of frames kept per connection for replay (same rule). */
    maxBufferedBytes: num(64 * 1024, 1024 * 1024 * 1024),
  }),
});

export type SwitchboardConfig = v.InferOutput<typeof configSchema>;
export type ServerLimits = SwitchboardConfig['limits'];

type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
/** What createServer/resolveConfig accept: any subset of the settings. */
export type SwitchboardConfigInput = DeepPartial<SwitchboardConfig>;

export function defaultConfig(): SwitchboardConfig {
  const { heartbeatMs, ...wireLimits } = DEFAULT_LIMITS;
  return {
    port: 8443,
    host: '0.0.0.0',
    tls: { mode: 'self-signed', cert: null, key: null },
    dataDir: './.switchboard',
    guests: true,
    guestListing: 'all',
    trustProxy: 0,
    publicUrl: null,
    auth: { secrets: [], guestTtlSeconds: 24 * 60 * 60, jwks: null, issuer: null, audience: null },
    limits: {
      ...wireLimits,
      maxBufferedBytes: 4 * 1024 * 1024,
      maxRingingCalls: 8,
      maxActiveCalls: 8,
      maxConnectionsPerAddress: 50,
      guestTokensPerMinute: 30,
      httpListingsPerMinute: 120,
    },
    heartbeatMs,
    rtc: { allowAnyPair: false, ackDelayMs: 20 },
    ice: { stun: [], turn: [], turnSecrets: [], turnTtlSeconds: 6 * 60 * 60 },
    stun: { enabled: true, port: DEFAULT_STUN_PORT, host: null, perAddressPerSecond: 20 },
    cors: { origins: ['*'] },
    staticDir: null,
    logLevel: 'info',
    nodeId: null,
    redis: null,
    cluster: { heartbeatMs: 2_000, nodeTimeoutMs: 10_000, prefix: 'sb:', connectTimeoutMs: 5_000, commandTimeoutMs: 1_000, probeIntervalMs: 1_000 },
    resume: { windowMs: 30_000, maxBufferedFrames: 1_000, maxBufferedBytes: 1024 * 1024 },
    push: {
      enabled: true,
      vapidPublicKey: null,
      vapidPrivateKey: null,
      previousVapidKeys: [],
      subject: 'mailto:admin@switchboard.invalid',
      maxSubscriptionsPerUser: 10,
      perUserPerMinute: 30,
      queueSize: 10_000,
      concurrency: 16,
      retries: 4,
      retryBaseMs: 1_000,
      ttlSeconds: 24 * 60 * 60,
      timeoutMs: 10_000,
      allowPrivateEndpoints: false,
    },
  };
}

export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(
      issues.length === 1
        ? `Invalid configuration: ${issues[0]!.path}: ${issues[0]!.message}`
        : `Invalid configuration:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

const isPlainObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Deep merge of plain objects; arrays and scalars replace; `undefined` is skipped. */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = mergeConfig(base[key], value);
  return out;
}

function describe(input: unknown): string {
  if (input === undefined) return 'nothing';
  const json = JSON.stringify(input);
  return json === undefined ? String(input) : json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/**
 * Validates a merged settings object. `sources` maps a path to where the value
 * came from (e.g. `SWITCHBOARD_PORT`), which is appended to the error line.
 */
export function validateConfig(merged: unknown, sources: ReadonlyMap<string, string> = new Map()): SwitchboardConfig {
  const result = v.safeParse(configSchema, merged);
  const issues: ConfigIssue[] = [];
  if (!result.success) {
    for (const issue of result.issues) {
      const path = issue.path?.map((p) => String(p.key)).join('.') || '(root)';
      const unknownKey = issue.kind === 'schema' && issue.type === 'strict_object' && issue.path !== undefined;
      const shown =
        /secret/i.test(path) && typeof issue.input === 'string'
          ? `a string of ${issue.input.length} characters`
          : path === 'redis' && typeof issue.input === 'string'
            ? describe(redactUrl(issue.input))
            : describe(issue.input);
      const message = unknownKey ? 'unknown setting' : `${issue.message}, got ${shown}`;
      const source = sources.get(path) ?? sources.get(path.replace(/\.\d+$/, ''));
      issues.push({ path, message: source ? `${message} (from ${source})` : message });
    }
    throw new ConfigError(issues);
  }
  const config = result.output;
  if (config.tls.mode === 'files') {
    if (!config.tls.cert) issues.push({ path: 'tls.cert', message: 'required when tls.mode is "files"' });
    if (!config.tls.key) issues.push({ path: 'tls.key', message: 'required when tls.mode is "files"' });
  }
  if (config.ice.turn.length > 0 && config.ice.turnSecrets.length === 0) {
    issues.push({ path: 'ice.turnSecrets', message: 'required when ice.turn is set (coturn static-auth-secret)' });
  }
  if (config.redis !== null && config.auth.secrets.length === 0) {
    issues.push({
      path: 'auth.secrets',
      message: 'required when redis is set: every node must verify the tokens the others sign (--secret or SWITCHBOARD_AUTH_SECRETS)',
    });
  }
  if ((config.push.vapidPublicKey === null) !== (config.push.vapidPrivateKey === null)) {
    const missing = config.push.vapidPublicKey === null ? 'push.vapidPublicKey' : 'push.vapidPrivateKey';
    issues.push({ path: missing, message: 'required with the other half of the VAPID key pair (set both, or neither to generate them)' });
  }
  if (config.cluster.nodeTimeoutMs < 2 * config.cluster.heartbeatMs) {
    issues.push({ path: 'cluster.nodeTimeoutMs', message: `expected at least twice cluster.heartbeatMs (${2 * config.cluster.heartbeatMs})` });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}

/** defaults ← input, validated. */
export function resolveConfig(input: SwitchboardConfigInput = {}): SwitchboardConfig {
  return validateConfig(mergeConfig(defaultConfig(), input));
}
