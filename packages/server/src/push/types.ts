/** Web Push (RFC 8030 delivery, RFC 8291 encryption, RFC 8292 VAPID): the shapes the push/ files share. */
import type { PushSubscriptionData } from '@switchboard/protocol';

/** A subscription as stored: the browser's endpoint and keys, and the VAPID public key it was made for. */
export interface StoredSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  /** The VAPID public key the server handed out when this subscription was made (rotation: see vapid.ts). */
  vapid: string;
}

export type { PushSubscriptionData };

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** What a push carries: the notification the service worker shows, and optional app data. */
export interface PushContent {
  title: string;
  body: string;
  data?: unknown;
}

export interface NotifyOptions {
  /** Push even when the user has an open connection (Skapi's `notification.config.always`). */
  always?: boolean;
}

/**
 * What `notifyUser` did. `queued`: pushes handed to the delivery queue (one per subscription).
 * `skipped` says why nothing went out without it being an error; `code` names the limit that stopped it.
 */
export interface NotifyOutcome {
  queued: number;
  skipped?: 'connected' | 'no_subscriptions' | 'queue_full';
  code?: 'PUSH_RATE_LIMITED' | 'PAYLOAD_TOO_LARGE';
}

/** Where subscriptions and the per-user push counts live: memory (one node) or Redis (a cluster). */
export interface PushStore {
  /** Adds or replaces the subscription with that endpoint (taking it from any other user); 'full' at the cap. */
  add(userId: string, subscription: StoredSubscription, maxPerUser: number): Promise<number | 'full'>;
  /** Removes the user's subscription with that endpoint; false when there was none. */
  remove(userId: string, endpoint: string): Promise<boolean>;
  list(userId: string): Promise<StoredSubscription[]>;
  /** Counts one push to the user in the current minute; false (not counted) when `perMinute` are spent. */
  take(userId: string, perMinute: number): Promise<boolean>;
  /** The generated VAPID pair every node shares (a cluster); null: the node keeps its own in its data dir. */
  sharedKeys(generate: () => VapidKeys): Promise<VapidKeys> | null;
  close(): Promise<void>;
}

/**
 * The server-side push API (`ctx.push`), for handlers and for other features (a call to a user
 * whose devices are all closed). Every method is safe to call on any node of a cluster.
 */
export interface PushService {
  /** The current VAPID public key (base64url), what `applicationServerKey` must be. */
  publicKey(): Promise<string>;
  /** Stores a subscription for the user; resolves with their number of subscriptions. RequestError at the cap. */
  subscribe(userId: string, subscription: PushSubscriptionData): Promise<number>;
  unsubscribe(userId: string, endpoint: string): Promise<boolean>;
  /**
   * Pushes `{title, body, data?}` to every subscription of the user, unless the user has an open
   * connection anywhere (then nothing, unless `always`). Returns once the pushes are queued: the
   * push services are contacted off this path, with retries. Never rejects for a push failure;
   * rejects only when the store cannot be read (RequestError SERVER_UNAVAILABLE).
   */
  notifyUser(userId: string, content: PushContent, options?: NotifyOptions): Promise<NotifyOutcome>;
  /** Pushes waiting, being retried or in flight on this node. */
  queueLength(): number;
  /** Resolves when nothing is waiting or in flight (tests, graceful shutdown). */
  idle(): Promise<void>;
  close(): Promise<void>;
}
