/**
 * receiveFiles: the receiving side of sendFile. Reassembles each transfer, verifies its length
 * and SHA-256, confirms (or refuses) to the sender, and hands the bytes to the app. Chunks are
 * hashed and stored as they arrive (assemble.ts), so verifying a big file at the end is instant.
 */
import { SwitchboardError } from '@switchboard/protocol';
import type { Assembled, ReceiveAs } from './assemble.js';
import { encodeFrame, parseFrame, type Frame } from './frames.js';
import { Sinks, type Sink } from './sink.js';
import type { TransferProgress } from './send.js';

export interface IncomingFileInfo {
  id: string;
  name: string;
  type: string;
  /** Announced size, or null for a stream of unknown length. */
  size: number | null;
}

export interface ReceivedFile extends IncomingFileInfo {
  bytes: number;
  /** Verified SHA-256 (lowercase hex). */
  sha256: string;
  /**
   * The bytes (with `as: 'bytes'`, the default). With `as: 'blob'` use `blob`: reading `data` throws.
   * Not enumerable then, so spreading a ReceivedFile stays safe.
   */
  data: Uint8Array;
  /** The file as a Blob of its type. With `as: 'blob'` it was built while the chunks arrived; with 'bytes', on first read (a copy). */
  readonly blob: Blob;
  /** From the start frame to verification. */
  ms: number;
}

export interface ReceiveFilesOptions {
  onFile?: (file: ReceivedFile) => void;
  onStart?: (info: IncomingFileInfo) => void;
  onProgress?: (progress: TransferProgress) => void;
  /** A transfer that failed (length or checksum mismatch, aborted by the sender, channel closed, too large). */
  onError?: (error: SwitchboardError, info: IncomingFileInfo | null) => void;
  /** Refuse transfers larger than this (default 1 GiB): the sender's promise rejects with PAYLOAD_TOO_LARGE. */
  maxBytes?: number;
  /**
   * How a file is kept: 'bytes' (default) in one Uint8Array, `data`; 'blob' in a Blob, `blob`, made from
   * parts while the chunks arrive. In a page prefer 'blob' for big files: the bytes then leave the
   * page's heap as they come, and nothing copies the whole file in one go (a download link needs a Blob anyway).
   */
  as?: ReceiveAs;
}

interface Current {
  info: IncomingFileInfo;
  started: number;
  parts: Sink | null;
  received: number;
  refused: boolean;
}

const DEFAULT_MAX = 1024 * 1024 * 1024;

function error(code: 'INVALID_REQUEST' | 'CONNECTION_CLOSED' | 'PAYLOAD_TOO_LARGE', message: string, reason: string): SwitchboardError {
  return new SwitchboardError(code, message, { name: 'FileTransferError', details: { reason } });
}

/** Starts receiving files on `channel` (sets `binaryType` to 'arraybuffer'); returns a function that stops. */
export function receiveFiles(channel: RTCDataChannel, options: ReceiveFilesOptions = {}): () => void {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX;
  const as = options.as ?? 'bytes';
  if (as !== 'bytes' && as !== 'blob') throw SwitchboardError.invalidParameter("receiveFiles: \"as\" should be 'bytes' or 'blob'.");
  if (as === 'blob' && typeof Blob === 'undefined') throw SwitchboardError.invalidParameter("receiveFiles: { as: 'blob' } needs Blob (a browser or Node 18+).");
  let current: Current | null = null;
  channel.binaryType = 'arraybuffer';
  const sinks = new Sinks();

  const reply = (frame: Frame): void => {
    if (channel.readyState !== 'open') return;
    try {
      channel.send(encodeFrame(frame));
    } catch {
      // closed meanwhile: the sender sees the close
    }
  };
  const failCurrent = (err: SwitchboardError): void => {
    const info = current?.info ?? null;
    current?.parts?.drop();
    current = null;
    options.onError?.(err, info);
  };

  const onStart = (frame: Extract<Frame, { op: 'start' }>): void => {
    if (current && !current.refused) failCurrent(error('INVALID_REQUEST', `Transfer "${current.info.name}" was cut short by the next one.`, 'interrupted'));
    const info: IncomingFileInfo = { id: frame.id, name: frame.name, type: frame.type, size: frame.size };
    const refused = frame.size !== null && frame.size > maxBytes;
    current = { info, started: Date.now(), parts: refused ? null : sinks.open(as, frame.size, frame.type || 'application/octet-stream'), received: 0, refused };
    if (refused) {
      reply({ op: 'ack', id: frame.id, ok: false, bytes: 0, sha256: '', error: 'too_large' });
      options.onError?.(error('PAYLOAD_TOO_LARGE', `"${frame.name}" (${frame.size} bytes) is larger than maxBytes (${maxBytes}).`, 'too_large'), info);
      return;
    }
    options.onStart?.(info);
  };

  const onChunk = (data: ArrayBuffer): void => {
    const file = current;
    if (!file?.parts || file.refused) return;
    const end = file.received + data.byteLength;
    if (end > maxBytes || (file.info.size !== null && end > file.info.size)) {
      file.refused = true;
      const tooLarge = end > maxBytes;
      reply({ op: 'ack', id: file.info.id, ok: false, bytes: end, sha256: '', error: tooLarge ? 'too_large' : 'length_mismatch' });
      failCurrent(
        tooLarge
          ? error('PAYLOAD_TOO_LARGE', `"${file.info.name}" is larger than maxBytes (${maxBytes}).`, 'too_large')
          : error('INVALID_REQUEST', `"${file.info.name}" is longer than announced (${file.info.size} bytes).`, 'length_mismatch'),
      );
      return;
    }
    file.parts.add(data);
    file.received = end;
    options.onProgress?.({ id: file.info.id, name: file.info.name, bytes: end, total: file.info.size });
  };

  const onEnd = async (frame: Extract<Frame, { op: 'end' }>): Promise<void> => {
    const file = current;
    if (!file?.parts || file.info.id !== frame.id || file.refused) return;
    current = null;
    const received = file.received;
    const lengthOk = received === frame.bytes && (file.info.size === null || file.info.size === received);
    if (!lengthOk) file.parts.drop();
    let assembled: Assembled | null;
    try {
      assembled = lengthOk ? await file.parts.finish() : null;
    } catch (cause) {
      reply({ op: 'ack', id: frame.id, ok: false, bytes: received, sha256: '', error: 'receiver_failed' });
      options.onError?.(error('INVALID_REQUEST', `"${file.info.name}" could not be verified: ${(cause as Error).message}.`, 'receiver_failed'), file.info);
      return;
    }
    const sha256 = assembled?.sha256 ?? '';
    if (!assembled || sha256 !== frame.sha256) {
      const reason = lengthOk ? 'checksum_mismatch' : 'length_mismatch';
      reply({ op: 'ack', id: frame.id, ok: false, bytes: received, sha256, error: reason });
      options.onError?.(
        error('INVALID_REQUEST', `"${file.info.name}" failed verification (${reason}: ${received} of ${frame.bytes} bytes).`, reason),
        file.info,
      );
      return;
    }
    reply({ op: 'ack', id: frame.id, ok: true, bytes: received, sha256 });
    const result = { ...file.info, bytes: received, sha256, ms: Date.now() - file.started } as ReceivedFile;
    const { data, blob } = assembled;
    const type = file.info.type || 'application/octet-stream';
    let made: Blob | undefined;
    Object.defineProperties(result, {
      // With 'blob' there are no bytes to give without reading the Blob (async): say so rather than copy.
      data: data
        ? { value: data, enumerable: true, writable: true, configurable: true }
        : {
            configurable: true,
            get: () => {
              throw SwitchboardError.invalidParameter("receiveFiles({ as: 'blob' }) delivers `blob` (its bytes: `await file.blob.arrayBuffer()`), not `data`.");
            },
          },
      blob: blob
        ? { value: blob, enumerable: true, configurable: true }
        : { configurable: true, get: () => (made ??= new Blob([data as Uint8Array<ArrayBuffer>], { type })) },
    });
    options.onFile?.(result);
  };

  const onMessage = (event: MessageEvent): void => {
    if (event.data instanceof ArrayBuffer) {
      onChunk(event.data);
      return;
    }
    const frame = parseFrame(event.data);
    if (!frame) return;
    if (frame.op === 'start') onStart(frame);
    else if (frame.op === 'end') void onEnd(frame);
    else if (frame.op === 'abort' && current?.info.id === frame.id)
      failCurrent(error('INVALID_REQUEST', `The sender aborted "${current.info.name}": ${frame.reason}.`, 'aborted'));
  };
  const onClose = (): void => {
    if (current && !current.refused)
      failCurrent(error('CONNECTION_CLOSED', `Data channel "${channel.label}" closed during "${current.info.name}".`, 'channel_closed'));
  };

  channel.addEventListener('message', onMessage);
  channel.addEventListener('close', onClose);
  return () => {
    channel.removeEventListener('message', onMessage);
    channel.removeEventListener('close', onClose);
    current = null;
    sinks.close();
  };
}

/** The same as an async iterator: `for await (const file of files(channel)) …` (verified files only; `return()` stops). */
export function files(channel: RTCDataChannel, options: Omit<ReceiveFilesOptions, 'onFile'> = {}): AsyncIterableIterator<ReceivedFile> {
  const queue: ReceivedFile[] = [];
  let wake: (() => void) | null = null;
  let done = false;
  const finish = (): void => {
    done = true;
    stop();
    wake?.();
  };
  const stop = receiveFiles(channel, {
    ...options,
    onFile: (file) => {
      queue.push(file);
      wake?.();
    },
  });
  channel.addEventListener('close', finish, { once: true });
  const iterator: AsyncIterableIterator<ReceivedFile> = {
    async next() {
      while (queue.length === 0 && !done) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      const file = queue.shift();
      return file ? { value: file, done: false } : { value: undefined, done: true };
    },
    async return() {
      channel.removeEventListener('close', finish);
      finish();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
