/** @switchboard/client/node: the SDK in Node (`ws` for the socket, global fetch). */
import { Switchboard as BaseSwitchboard } from '../switchboard.js';
import type { Platform, SwitchboardOptions } from '../types.js';
import { nodePlatform } from './platform.js';

export class Switchboard extends BaseSwitchboard {
  constructor(options: SwitchboardOptions, platform: Platform = nodePlatform()) {
    super(options, platform);
  }
}

export { nodePlatform };
export type { Connected, DatabaseResponse, FetchOptions, GroupQuery, Notification, SessionState } from '../switchboard.js';
export { SwitchboardError, ERROR_CODES, CLOSE_CODES } from '@switchboard/protocol';
export type { ErrorCode, IceServer, NoticeCode, UserInfo } from '@switchboard/protocol';
export type * from '../types.js';
export { backoffDelay, backoffCeiling } from '../transport/backoff.js';
