import type { ServerMessageType } from '@switchboard/protocol';

/**
 * A frame serialized once for all its recipients. Its own file, below both delivery.ts and
 * resume/, which each need it (delivery numbers frames through the replay store).
 */
export interface OutboundFrame {
  readonly type: ServerMessageType;
  readonly data: Buffer;
}

/**
 * A frame as buildFrame makes it: its JSON text, and its bytes only once something asks for
 * them. A frame with a seq is written from the text with the seq in front (resume/frame.ts
 * withSeq), so a relay to one resumable connection makes one Buffer, not two (the shared bytes
 * and then their numbered copy); the replay buffer holds the frame and encodes it on a replay.
 * A numbered copy goes to the socket as text: the socket's write encodes it into its own
 * storage, so it never becomes a Buffer (which, above 4 KB, costs an allocation outside the
 * V8 heap and more GC work than the short-lived string).
 */
export class TextFrame implements OutboundFrame {
  private bytes: Buffer | undefined;
  private length = -1;

  constructor(
    readonly type: ServerMessageType,
    readonly text: string,
    /** For one socket only (a numbered copy): written as text, never encoded here. */
    readonly single = false,
  ) {}

  get data(): Buffer {
    return (this.bytes ??= Buffer.from(this.text, 'utf8'));
  }

  /** The UTF-8 length, without encoding the text when its bytes were not made yet. */
  get byteLength(): number {
    if (this.length < 0) this.length = this.bytes?.length ?? Buffer.byteLength(this.text, 'utf8');
    return this.length;
  }

  /** Whether the shared bytes exist already (then copying them beats encoding the text again). */
  get encoded(): boolean {
    return this.bytes !== undefined;
  }
}

/** A frame's UTF-8 length, encoding nothing. */
export const frameBytes = (frame: OutboundFrame): number => (frame instanceof TextFrame ? frame.byteLength : frame.data.length);
