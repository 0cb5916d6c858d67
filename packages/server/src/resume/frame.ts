/**
 * Sequence numbers on the wire. A frame is serialized once for all its recipients; each
 * recipient's copy gets its own `seq` spliced in front of the shared bytes
 * (`{"seq":17,` + the frame without its `{`), so nothing is re-encoded per connection.
 */
import type { ServerMessageType } from '@switchboard/protocol';
import { numberedCopy, TextFrame, type OutboundFrame } from '../state/outbound-frame.js';

/**
 * Frame types that get a seq and are buffered for replay. `error` only when it answers a
 * request (`id` not null); an uncorrelated error, `welcome`, `pong` and `ice` are about the
 * socket itself and are never replayed.
 */
export const SEQUENCED_TYPES: ReadonlySet<ServerMessageType> = new Set(['message', 'private', 'notice', 'rtc', 'ack', 'error']);

export const isSequenced = (type: ServerMessageType): boolean => SEQUENCED_TYPES.has(type);

/** The frame with `"seq":<seq>` as its first member, for one socket (see TextFrame.numbered). */
export function withSeq(frame: OutboundFrame, seq: number): OutboundFrame {
  return frame instanceof TextFrame ? frame.numbered(seq) : { type: frame.type, data: numberedCopy(frame.data, seq) };
}
