import { DISPLAY_NAME_MAX, SwitchboardError, type PushSubscriptionData, type ServerMessageOf, type UserInfo } from '@switchboard/protocol';
import { attachCalls } from './calls/attach.js';
import { browserPlatform } from './platform/browser.js';
import { watchPage } from './platform/page-lifecycle.js';
import { Listings, type DatabaseResponse, type FetchOptions, type GroupQuery } from './realtime/listings.js';
import { Realtime, type Connected } from './realtime/realtime.js';
import type { Notification } from './realtime/validate.js';
import { TokenSource } from './session/auth.js';
import { Session, type SessionState } from './session/session.js';
import { backoffPolicy } from './transport/backoff.js';
import { endpoints } from './transport/url.js';
import type { CallHost, CallLayer, Platform, RTCCallback, RTCConnector, RTCConnectorParams, RealtimeCallback, SwitchboardOptions } from './types.js';

const DEFAULTS = { requestTimeoutMs: 10_000, ringTimeoutMs: 30_000, iceDisconnectGraceMs: 3_000, maxIceRestarts: 3 };

/** The wiring behind a Switchboard, for the SDK's own tests: not exported by any entry point. */
export interface SwitchboardInternals {
  session: Session;
  calls: CallLayer;
  /** What the call layer sees of the session (sendSignal, emitRealtime, self, iceServers, …). */
  host: CallHost;
  /** The realtime layer (its joined group and the events on their way to the app: add-ons such as group calls tap them). */
  realtime: Realtime;
}

let internalsOf: (sb: Switchboard) => SwitchboardInternals;

/**
 * The SDK: Skapi's Realtime/WebRTC functions against a Switchboard server.
 * Everything is per instance; two instances in one page do not interfere. The public members
 * are exactly the documented API; the wiring sits in private fields, so an app cannot reach
 * (or forge) the signals and events the SDK passes between its layers.
 */
export class Switchboard {
  readonly #platform: Platform;
  readonly #session: Session;
  readonly #realtime: Realtime;
  readonly #listings: Listings;
  readonly #calls: CallLayer;
  readonly #host: CallHost;

  static {
    internalsOf = (sb) => ({ session: sb.#session, calls: sb.#calls, host: sb.#host, realtime: sb.#realtime });
  }

  /** @param platform the environment; the entry points pass theirs (browser globals, or ws in Node). */
  constructor(options: SwitchboardOptions, platform: Platform = browserPlatform()) {
    const config = checkOptions(options);
    const env: Platform = { ...platform, ...definedOnly(config.platform ?? {}) };
    this.#platform = env;
    const urls = endpoints(config.url);
    const requestTimeoutMs = config.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
    const tokens = new TokenSource({
      token: config.token,
      name: config.name,
      http: urls.http,
      fetch: env.fetch,
      timeoutMs: requestTimeoutMs,
    });
    const session: Session = (this.#session = new Session({
      platform: env,
      endpoints: urls,
      tokens,
      backoff: backoffPolicy(config.reconnect),
      requestTimeoutMs,
      resync: (reconnect) => realtime.resync(reconnect),
    }));
    const realtime: Realtime = (this.#realtime = new Realtime(session, {
      closeCalls: () => this.#calls.closeRTC({ close_all: true }),
    }));
    this.#listings = new Listings(session, () => realtime.group, { http: urls.http, tokens, fetch: env.fetch, timeoutMs: requestTimeoutMs });
    const { layer, host } = attachCalls(session, {
      platform: env,
      options: {
        ringTimeoutMs: config.ringTimeoutMs ?? DEFAULTS.ringTimeoutMs,
        iceDisconnectGraceMs: config.iceDisconnectGraceMs ?? DEFAULTS.iceDisconnectGraceMs,
        maxIceRestarts: config.maxIceRestarts ?? DEFAULTS.maxIceRestarts,
        ...(config.iceRestartTimeoutMs === undefined ? {} : { iceRestartTimeoutMs: config.iceRestartTimeoutMs }),
      },
      emitRealtime: (event) => realtime.emit(event),
    });
    this.#calls = layer;
    this.#host = host;
    if (env.kind === 'browser') {
      let unwatch: (() => void) | null = null;
      session.events.on('state', ({ state }) => {
        if (state === 'connecting' && !unwatch) {
          unwatch = watchPage({
            suspend: () => session.suspend(),
            wake: () => session.wake(),
            close: () => {
              this.#calls.leavePage();
              return session.close();
            },
          });
        } else if (state === 'closed' && unwatch) {
          unwatch();
          unwatch = null;
        }
      });
    }
  }

  /** `{ user_id, name }` once connected (kept after the connection closes). */
  get user(): UserInfo | null {
    return this.#session.welcome?.user ?? null;
  }

  /** This connection's id (`cid:…`) while connected; a resumed reconnect keeps it, any other gets a new one. */
  get cid(): string | null {
    return this.#session.connection?.cid ?? null;
  }

  /** idle → connecting → open → reconnecting → closed. */
  get connectionState(): SessionState {
    return this.#session.state;
  }

  // ------------------------------------------------------------------ realtime

  connectRealtime(cb: RealtimeCallback): Promise<Connected> {
    if (typeof this.#platform.WebSocket !== 'function') {
      return Promise.reject(new SwitchboardError('NOT_SUPPORTED', `WebSocket is not supported in this environment (${this.#platform.kind}).`));
    }
    return this.#realtime.connectRealtime(cb);
  }

  closeRealtime(): Promise<void> {
    return this.#realtime.closeRealtime();
  }

  joinRealtime(params: { group?: string | null }): Promise<{ type: 'success'; message: string }> {
    return this.#realtime.joinRealtime(params);
  }

  postRealtime(message: unknown, recipient: string, notification?: Notification): Promise<{ type: 'success'; message: string; delivered: number }> {
    return this.#realtime.postRealtime(message, recipient, notification);
  }

  getRealtimeUsers(
    params?: { group?: string; user_id?: string } | null,
    fetchOptions?: FetchOptions | null,
  ): Promise<DatabaseResponse<{ user_id: string; cid: string }>> {
    return this.#listings.getRealtimeUsers(params, fetchOptions);
  }

  getRealtimeGroups(params?: GroupQuery | null, fetchOptions?: FetchOptions | null): Promise<DatabaseResponse<{ group: string; number_of_users: number }>> {
    return this.#listings.getRealtimeGroups(params, fetchOptions);
  }

  // ------------------------------------------------------------------ Web Push (Skapi's names; over the realtime connection)

  /** The server's VAPID public key, for `pushManager.subscribe({ applicationServerKey })`. */
  vapidPublicKey(): Promise<{ VAPIDPublicKey: string }> {
    return this.#session.request({ type: 'push_key' });
  }

  /** Stores this browser's PushSubscription (or its `toJSON()`, or Skapi's `endpoint, keys`) for the user. */
  subscribeNotification(subscription: PushSubscriptionInput, keys?: PushKeys): Promise<string> {
    return this.#push('push_subscribe', subscription, keys, 'Subscribed to receive notifications.');
  }

  unsubscribeNotification(subscription: PushSubscriptionInput, keys?: PushKeys): Promise<string> {
    return this.#push('push_unsubscribe', subscription, keys, 'Unsubscribed from notifications.');
  }

  /** Skapi's answers: 'SUCCESS: …'; the server checks the subscription (an https endpoint, both keys) and answers INVALID_PARAMETER. */
  #push(type: 'push_subscribe' | 'push_unsubscribe', s: PushSubscriptionInput, keys: PushKeys | undefined, done: string): Promise<string> {
    const subscription = typeof s == 'string' ? { endpoint: s, keys } : 'toJSON' in s ? s.toJSON() : s;
    return this.#session.request({ type, subscription } as { type: 'push_subscribe'; subscription: PushSubscriptionData }).then(() => 'SUCCESS: ' + done);
  }

  // ------------------------------------------------------------------ calls

  async connectRTC(params: RTCConnectorParams, cb: RTCCallback): Promise<RTCConnector> {
    return this.#calls.connectRTC(params, cb);
  }

  async closeRTC(params: { cid?: string; close_all?: boolean }): Promise<void> {
    return this.#calls.closeRTC(params);
  }
}

/** The wiring of one instance (tests of the SDK itself). */
export function switchboardInternals(sb: Switchboard): SwitchboardInternals {
  return internalsOf(sb);
}

export type { Connected, DatabaseResponse, FetchOptions, GroupQuery, Notification, SessionState };
export type PushKeys = PushSubscriptionData['keys'];
/** A browser PushSubscription, its `toJSON()`, or (Skapi's two-argument form) its endpoint. */
export type PushSubscriptionInput = string | PushSubscriptionData | { toJSON(): PushSubscriptionData };
export type RtcFrame = ServerMessageOf<'rtc'>;

function checkOptions(options: SwitchboardOptions): SwitchboardOptions {
  const invalid = (message: string) => SwitchboardError.invalidParameter(message);
  if (typeof options !== 'object' || options === null) throw invalid('new Switchboard(options): options must be an object.');
  if (typeof options.url !== 'string' || options.url.length === 0) throw invalid('"url" is required: the server address, e.g. https://calls.example.com.');
  try {
    endpoints(options.url);
  } catch (error) {
    throw invalid((error as Error).message);
  }
  if (options.token !== undefined && typeof options.token !== 'string' && typeof options.token !== 'function') {
    throw invalid('"token" should be a JWT string or a function returning one.');
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name.length > DISPLAY_NAME_MAX)) {
    throw invalid(`"name" should be a string of at most ${DISPLAY_NAME_MAX} characters.`);
  }
  if (options.requestTimeoutMs !== undefined && !(options.requestTimeoutMs > 0)) throw invalid('"requestTimeoutMs" should be a positive number.');
  return options;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}
