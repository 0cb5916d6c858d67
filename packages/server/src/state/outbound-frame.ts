import type { ServerMessageType } from '@switchboard/protocol';

/**
 * A frame serialized once for all its recipients. Its own file, below both delivery.ts and
 * resume/, which each need it (delivery numbers frames through the replay store).
 */
export interface OutboundFrame {
  readonly type: ServerMessageType;
  readonly data: Buffer;
}
