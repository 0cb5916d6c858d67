/** What handlers and connections share: config, state, delivery, calls, ICE, metrics, logs. */
import type { Limits, UserInfo } from '@switchboard/protocol';
import type { SwitchboardConfig } from './config.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
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
  /** The Redis cluster this node belongs to, or null on a single node. */
  cluster: { readonly url: string; up(): boolean } | null;
}

/** The connection a frame came from, as handlers see it. */
export interface Session {
  readonly cid: string;
  readonly user: UserInfo;
  /** Sends a prebuilt frame to this connection only. */
  send(frame: OutboundFrame): boolean;
}
