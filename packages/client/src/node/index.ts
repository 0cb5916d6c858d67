/**
 * @switchboard/client/node: the SDK in Node. The same API as the browser build, with `ws` for
 * the socket and node-datachannel for calls (data channels; media is NOT_SUPPORTED).
 */
import { Switchboard as BaseSwitchboard } from '../switchboard.js';
import type { Platform, SwitchboardOptions } from '../types.js';
import { nodePlatform, type NodePlatformOptions } from './platform.js';
import type { CaOption } from './tls.js';

export interface NodeSwitchboardOptions extends SwitchboardOptions {
  /** Node-only WebRTC settings, e.g. `{ bindAddress: '127.0.0.1' }` (ignored when a platform is passed). */
  node?: NodePlatformOptions;
  /**
   * Extra CA certificates to trust (PEM), added to the system roots, e.g. a self-signed server's
   * `.switchboard/tls/cert.pem` (same as `node.ca`; `NODE_EXTRA_CA_CERTS` works too).
   */
  ca?: CaOption;
}

export class Switchboard extends BaseSwitchboard {
  constructor(options: NodeSwitchboardOptions, platform?: Platform) {
    const ca = options?.ca ?? options?.node?.ca;
    super(options, platform ?? nodePlatform({ ...options?.node, ...(ca !== undefined ? { ca } : {}) }));
  }
}

export { nodePlatform };
export type { NodePlatformOptions, CaOption };
export { nodePeerConnectionClass, type NodeRtcOptions } from './peer-connection.js';
export { livePeerConnections, releaseNodeWebRTC } from './lifecycle.js';
export type { Connected, DatabaseResponse, FetchOptions, GroupQuery, Notification, SessionState } from '../switchboard.js';
export { SwitchboardError, ERROR_CODES, CLOSE_CODES } from '@switchboard/protocol';
export type { ErrorCode, IceServer, NoticeCode, UserInfo } from '@switchboard/protocol';
export type * from '../types.js';
export { backoffDelay, backoffCeiling } from '../transport/backoff.js';
export * from '../transfer/index.js';
