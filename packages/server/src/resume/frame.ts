/**
 * Sequence numbers on the wire. A frame is serialized once for all its recipients; each
 * recipient's copy gets its own `seq` spliced in front of the shared bytes
 * (`{"seq":17,` + the frame without its `{`), so nothing is re-encoded per connection.
 */
import type { ServerMessageType } from '@switchboard/protocol';
import { TextFrame, type OutboundFrame } from '../state/outbound-frame.js';

/**
 * Frame types that get a seq and are buffered for replay. `error` only when it answers a
 * request (`id` not null); an uncorrelated error, `welcome`, `pong` and `ice` are about the
 * socket itself and are never replayed.
 */
export const SEQUENCED_TYPES: ReadonlySet<ServerMessageType> = new Set(['message', 'private', 'notice', 'rtc', 'ack', 'error']);

export const isSequenced = (type: ServerMessageType): boolean => SEQUENCED_TYPES.has(type);

const OPEN_BRACE = 0x7b;

/** The frame with `"seq":<seq>` as its first member. */
export function withSeq(frame: OutboundFrame, seq: number): OutboundFrame {
  if (frame instanceof TextFrame && !frame.encoded) {
    if (frame.text.charCodeAt(0) !== OPEN_BRACE) throw new Error('withSeq: a frame is a JSON object');
    return new TextFrame(frame.type, `{"seq":${seq},${frame.text.slice(1)}`, true);
  }
  if (frame.data[0] !== OPEN_BRACE) throw new Error('withSeq: a frame is a JSON object');
  const prefix = Buffer.from(`{"seq":${seq},`, 'latin1');
  return { type: frame.type, data: Buffer.concat([prefix, frame.data.subarray(1)], prefix.length + frame.data.length - 1) };
}
