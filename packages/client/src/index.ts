/** @switchboard/client: the browser entry (page globals: WebSocket, fetch, RTCPeerConnection, getUserMedia). */
export { Switchboard } from './switchboard.js';
export type { Connected, DatabaseResponse, FetchOptions, GroupQuery, Notification, SessionState } from './switchboard.js';
export { SwitchboardError, ERROR_CODES, CLOSE_CODES } from '@switchboard/protocol';
export type { ErrorCode, IceServer, NoticeCode, UserInfo } from '@switchboard/protocol';
export type * from './types.js';
export { backoffDelay, backoffCeiling } from './transport/backoff.js';
// File transfer is its own entry, @switchboard/client/transfer (and /switchboard-transfer.js).
