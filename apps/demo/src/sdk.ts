/**
 * The demo's only door to the SDK: `@switchboard/client` through its package exports.
 * Everything else imports from here, so the demo never reaches into SDK internals.
 */
import { Switchboard } from '@switchboard/client';
import type { RealtimeEvent, RtcIncomingEvent, RTCConnector, RTCEvent, RTCResolved, SwitchboardOptions } from '@switchboard/client';

export { Switchboard };
// The file-transfer add-on (package export `@switchboard/client/transfer`): chunked, backpressured, SHA-256 checked.
export { FILE_TRANSFER_CHANNEL, receiveFiles, sendFile } from '@switchboard/client/transfer';
export type { IncomingFileInfo, ReceivedFile, TransferProgress } from '@switchboard/client/transfer';
// The group-call add-on (`@switchboard/client/group`): a full mesh of 1:1 calls in the joined realtime group.
export { joinGroupCall } from '@switchboard/client/group';
export type { GroupCall, GroupCallEvent, GroupPeer } from '@switchboard/client/group';
export type { RealtimeEvent, RtcIncomingEvent, RTCConnector, RTCEvent, RTCResolved, SwitchboardOptions };

export type RtcClosedEvent = Extract<RealtimeEvent, { type: 'rtc:closed' }>;
export type NoticeEvent = Extract<RealtimeEvent, { type: 'notice' }>;

/** The `code` of a SwitchboardError (or of anything error-shaped), if it has one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const message = (error as { message: unknown }).message;
    if (typeof message === 'string' && message) return message;
  }
  return String(error);
}
