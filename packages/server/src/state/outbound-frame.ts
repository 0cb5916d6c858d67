import type { ServerMessageType } from '@switchboard/protocol';
import { wireBytes } from './wire-bytes.js';

/**
 * A frame serialized once for all its recipients. Its own file, below both delivery.ts and
 * resume/, which each need it (delivery numbers frames through the replay store).
 */
export interface OutboundFrame {
  readonly type: ServerMessageType;
  readonly data: Buffer;
  /**
   * The frame may wait on its socket (at most `rtc.ackDelayMs`) for the next one to share its
   * write: the ack of a relayed signal, which the SDK does not wait for (Connection.send).
   */
  readonly mayWait?: boolean;
  /** The request id this frame answers (an ack, or an error with an id), as built; not on numbered copies. */
  readonly answers?: number | null;
}

const OPEN_BRACE = 0x7b;
/** Above this many bytes, a numbered copy is written into slab bytes rather than made a string. */
const LARGEST_TEXT_COPY = 1024;

/**
 * A frame as buildFrame makes it: its JSON text, in the parts `encodeParts` gave (one, or a
 * relayed description's JSON around its SDP as it arrived), and its bytes only once something
 * asks for them. The parts are measured and written one by one: joining them would copy a 4 KB
 * SDP into a new string, and measuring the joined string would copy it again.
 *
 * A numbered copy (`numbered`) is for one socket. A small one is a string (`{"seq":17,` and the
 * text), which the socket's write encodes into its own storage: the cheapest way for the ~200-byte
 * frames a group post fans out. A large or multi-part one is written from the parts straight into
 * bytes carved from a shared slab (wire-bytes.ts): a string would put a 4 KB copy on the V8 heap
 * for every relayed description, and a Buffer of its own an ArrayBuffer outside it.
 */
export class TextFrame implements OutboundFrame {
  private bytes: Buffer | undefined;
  private length = -1;

  constructor(
    readonly type: ServerMessageType,
    private readonly parts: readonly string[],
    /** For one socket only (a small numbered copy): written as text, never encoded here. */
    readonly single = false,
    readonly mayWait = false,
    readonly answers: number | null = null,
  ) {
    if (parts[0]?.charCodeAt(0) !== OPEN_BRACE) throw new Error('TextFrame: a frame is a JSON object');
  }

  /** The JSON text (a multi-part frame's parts joined: for tests and diagnostics, not the write path). */
  get text(): string {
    return this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
  }

  get data(): Buffer {
    return (this.bytes ??= this.write(Buffer.allocUnsafe(this.byteLength), 0));
  }

  /** The UTF-8 length, without encoding the text when its bytes were not made yet. */
  get byteLength(): number {
    if (this.length < 0) {
      let length = 0;
      for (const part of this.parts) length += Buffer.byteLength(part, 'utf8');
      this.length = length;
    }
    return this.length;
  }

  /** Whether the shared bytes exist already (then copying them beats encoding the text again). */
  get encoded(): boolean {
    return this.bytes !== undefined;
  }

  /** The frame with `"seq":<seq>` as its first member, for one socket: the prefix `{"seq":17,` takes the place of its `{`. */
  numbered(seq: number): OutboundFrame {
    if (this.bytes) return { type: this.type, data: numberedCopy(this.bytes, seq), mayWait: this.mayWait };
    const prefix = `{"seq":${seq},`;
    if (this.parts.length === 1 && this.byteLength <= LARGEST_TEXT_COPY) {
      return new TextFrame(this.type, [prefix + this.parts[0]!.slice(1)], true, this.mayWait);
    }
    const out = wireBytes(prefix.length - 1 + this.byteLength);
    this.write(out, prefix.length - 1);
    out.write(prefix, 0, 'latin1');
    return { type: this.type, data: out, mayWait: this.mayWait };
  }

  private write(out: Buffer, at: number): Buffer {
    for (const part of this.parts) at += out.write(part, at, 'utf8');
    return out;
  }
}

/** `bytes` (a JSON object) with `"seq":<seq>` as its first member, in bytes for one socket. */
export function numberedCopy(bytes: Buffer, seq: number): Buffer {
  if (bytes[0] !== OPEN_BRACE) throw new Error('numberedCopy: a frame is a JSON object');
  const prefix = `{"seq":${seq},`;
  const out = wireBytes(prefix.length - 1 + bytes.length);
  bytes.copy(out, prefix.length - 1);
  out.write(prefix, 0, 'latin1');
  return out;
}

/** A frame's UTF-8 length, encoding nothing. */
export const frameBytes = (frame: OutboundFrame): number => (frame instanceof TextFrame ? frame.byteLength : frame.data.length);
