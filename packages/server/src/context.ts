/** What handlers and connections share: config, state, delivery, calls, ICE, metrics, logs. */
import type { Limits, UserInfo } from '@switchboard/protocol';
import type { SwitchboardConfig } from './config.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { PushService } from './push/types.js';
import type { ReplayStore, RequestLog, ResumeTokens } from './resume/index.js';
import type { CallRegistry } from './rtc/call-registry.js';
import type { Delivery, OutboundFrame } from './state/delivery.js';
import type { Store } from './state/store.js';
import type { IceProvider } from './turn/credentials.js';

export interface ServerContext {
  config: SwitchboardConfig;
  /** Limits reported in `welcome` (the wire subset of config.limits plus heartbeatMs). */
  wireLimits: Limits;
  node: string;
  store: Store;
  delivery: Delivery;
  calls: CallRegistry;
  ice: IceProvider;
  metrics: Metrics;
  log: Logger;
  /** Web Push (push/): subscriptions and `notifyUser`; null when push.enabled is false. */
  push: PushService | null;
  /** The Redis cluster this node belongs to, or null on a single node. */
  cluster: { readonly url: string; up(): boolean; adopt(cid: string, previousNode: string | null): Promise<void> } | null;
  /** Session resume (docs/adr/0008-resume.md); null when off (resume.windowMs 0, or a custom delivery). */
  resume: ResumeContext | null;
}

/** A connection on this node, as a resume of its cid on this node sees it. */
export interface Resumable {
  /** Drops the socket without cleanup (its cid lives on in the new one); hands over its request log. */
  takeOver(): RequestLog;
}

export interface ResumeContext {
  replay: ReplayStore;
  tokens: ResumeTokens;
  /** This node's connections by cid, for a resume landing on the node that holds the old socket. */
  local: Map<string, Resumable>;
}

/** The connection a frame came from, as handlers see it. */
export interface Session {
  readonly cid: string;
  readonly user: UserInfo;
  /** Sends a prebuilt frame to this connection only. */
  send(frame: OutboundFrame): boolean;
}
