import type { ServerMessageType } from '@switchboard/protocol';
import { recycleWireBytes, wireBytes } from './wire-bytes.js';

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
const COMMA = 0x2c;
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
 *
 * Once the frame exists as bytes (its shared bytes, or a numbered copy's), it lets its parts go
 * and makes anything else from those bytes. The replay buffer holds a frame until its client
 * confirms it (its next frame's `rx`, or a delivery probe: up to a second): held parts would keep
 * the 4 KB text the frame arrived as on the V8 heap that long, to be copied by each scavenge it
 * lives through and then promoted. Held as slab bytes, it costs the collector nothing, and when
 * only one socket ever had it, its confirmation gives the bytes back for reuse (`letGo`), so
 * slabs are not promoted either.
 */
export class TextFrame implements OutboundFrame {
  private bytes: Buffer | undefined;
  /** The first numbered copy written as bytes (`{"seq":17,` in place of the frame's `{`). */
  private copy: Buffer | undefined;
  /** null once the frame is held as bytes (`bytes` or `copy`). */
  private parts: readonly string[] | null;
  private length = -1;
  /** Replay buffers holding this frame now. */
  private holders = 0;
  /** The numbered copy may have gone to more than one socket (more than one holder, or a resume): never given back. */
  private pinned = false;

  constructor(
    readonly type: ServerMessageType,
    parts: readonly string[],
    /** For one socket only (a small numbered copy): written as text, never encoded here. */
    readonly single = false,
    readonly mayWait = false,
    readonly answers: number | null = null,
  ) {
    if (parts[0]?.charCodeAt(0) !== OPEN_BRACE) throw new Error('TextFrame: a frame is a JSON object');
    this.parts = parts;
  }

  /** The JSON text (a multi-part frame's parts joined: for tests and diagnostics, not the write path). */
  get text(): string {
    this.readable();
    if (this.parts === null) return this.data.toString('utf8');
    return this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
  }

  get data(): Buffer {
    if (this.bytes !== undefined) return this.bytes;
    this.readable();
    if (this.parts !== null) {
      this.bytes = this.write(this.parts, Buffer.allocUnsafe(this.byteLength), 0);
    } else {
      const rest = this.afterBrace();
      this.bytes = Buffer.allocUnsafe(rest.length + 1);
      this.bytes[0] = OPEN_BRACE;
      rest.copy(this.bytes, 1);
    }
    this.parts = null;
    return this.bytes;
  }

  /** The UTF-8 length, without encoding the text when its bytes were not made yet. */
  get byteLength(): number {
    if (this.length < 0) {
      let length = 0;
      for (const part of this.parts!) length += Buffer.byteLength(part, 'utf8');
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
    this.readable();
    const parts = this.parts;
    if (parts === null) return { type: this.type, data: withSeqBefore(this.afterBrace(), seq), mayWait: this.mayWait };
    const prefix = `{"seq":${seq},`;
    if (parts.length === 1 && this.byteLength <= LARGEST_TEXT_COPY) {
      return new TextFrame(this.type, [prefix + parts[0]!.slice(1)], true, this.mayWait);
    }
    const out = wireBytes(prefix.length - 1 + this.byteLength);
    this.write(parts, out, prefix.length - 1);
    out.write(prefix, 0, 'latin1');
    // Nothing writes to these bytes until they are given back (letGo), so the frame may keep reading them.
    this.copy = out;
    this.parts = null;
    return { type: this.type, data: out, mayWait: this.mayWait };
  }

  /** A replay buffer keeps this frame. */
  hold(): void {
    if (++this.holders > 1) this.pinned = true;
  }

  /** The frame may reach another socket than the one its numbered copy went to (a resume): its bytes are never given back. */
  pin(): void {
    this.pinned = true;
  }

  /**
   * A replay buffer let this frame go. `flushed`: because the client confirmed it, on the socket
   * the copy went to, with nothing left to write there, so the socket no longer reads the
   * copy's bytes. They are then given back for reuse (wire-bytes.ts) when nothing else can read
   * them: this was the frame's only holder, the copy went to that socket alone (`pinned`), and
   * no shared bytes were made from it (they would have been the ones kept).
   */
  letGo(flushed: boolean): void {
    this.holders -= 1;
    if (this.holders > 0 || !flushed || this.pinned || this.copy === undefined || this.bytes !== undefined) return;
    recycleWireBytes(this.copy);
    this.copy = undefined;
  }

  /** A frame whose bytes were given back (nothing left to read) may not be read: that is a bug, never garbage on a socket. */
  private readable(): void {
    if (this.parts === null && this.bytes === undefined && this.copy === undefined) {
      throw new Error('TextFrame: read after its bytes were given back for reuse');
    }
  }

  /** The frame's bytes after its `{`: the numbered copy's after its `{"seq":17,` (up to its first comma). */
  private afterBrace(): Buffer {
    const copy = this.copy!;
    return copy.subarray(copy.indexOf(COMMA) + 1);
  }

  private write(parts: readonly string[], out: Buffer, at: number): Buffer {
    for (const part of parts) at += out.write(part, at, 'utf8');
    return out;
  }
}

/** `bytes` (a JSON object) with `"seq":<seq>` as its first member, in bytes for one socket. */
export function numberedCopy(bytes: Buffer, seq: number): Buffer {
  if (bytes[0] !== OPEN_BRACE) throw new Error('numberedCopy: a frame is a JSON object');
  return withSeqBefore(bytes.subarray(1), seq);
}

/** `{"seq":<seq>,` followed by `rest` (a frame's bytes after its `{`), in new bytes. */
function withSeqBefore(rest: Buffer, seq: number): Buffer {
  const prefix = `{"seq":${seq},`;
  const out = wireBytes(prefix.length + rest.length);
  out.write(prefix, 0, 'latin1');
  rest.copy(out, prefix.length);
  return out;
}

/** A frame's UTF-8 length, encoding nothing. */
export const frameBytes = (frame: OutboundFrame): number => (frame instanceof TextFrame ? frame.byteLength : frame.data.length);
