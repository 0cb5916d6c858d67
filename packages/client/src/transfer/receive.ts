/**
 * receiveFiles: the receiving side of sendFile. Reassembles each transfer, verifies its length
 * and SHA-256, confirms (or refuses) to the sender, and hands the bytes to the app.
 */
import { SwitchboardError } from '@switchboard/protocol';
import { encodeFrame, parseFrame, type Frame } from './frames.js';
import { concat, sha256Hex } from './hash.js';
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
  data: Uint8Array;
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
}

interface Current {
  info: IncomingFileInfo;
  started: number;
  /** Preallocated when the size is known. */
  buffer: Uint8Array | null;
  parts: Uint8Array[];
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
  let current: Current | null = null;
  channel.binaryType = 'arraybuffer';

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
    current = null;
    options.onError?.(err, info);
  };

  const onStart = (frame: Extract<Frame, { op: 'start' }>): void => {
    if (current && !current.refused) failCurrent(error('INVALID_REQUEST', `Transfer "${current.info.name}" was cut short by the next one.`, 'interrupted'));
    const info: IncomingFileInfo = { id: frame.id, name: frame.name, type: frame.type, size: frame.size };
    const refused = frame.size !== null && frame.size > maxBytes;
    current = { info, started: Date.now(), buffer: refused || frame.size === null ? null : new Uint8Array(frame.size), parts: [], received: 0, refused };
    if (refused) {
      reply({ op: 'ack', id: frame.id, ok: false, bytes: 0, sha256: '', error: 'too_large' });
      options.onError?.(error('PAYLOAD_TOO_LARGE', `"${frame.name}" (${frame.size} bytes) is larger than maxBytes (${maxBytes}).`, 'too_large'), info);
      return;
    }
    options.onStart?.(info);
  };

  const onChunk = (data: ArrayBuffer): void => {
    const file = current;
    if (!file || file.refused) return;
    const chunk = new Uint8Array(data);
    const end = file.received + chunk.byteLength;
    if (end > maxBytes || (file.buffer && end > file.buffer.byteLength)) {
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
    if (file.buffer) file.buffer.set(chunk, file.received);
    else file.parts.push(chunk);
    file.received = end;
    options.onProgress?.({ id: file.info.id, name: file.info.name, bytes: end, total: file.info.size });
  };

  const onEnd = async (frame: Extract<Frame, { op: 'end' }>): Promise<void> => {
    const file = current;
    if (!file || file.info.id !== frame.id || file.refused) return;
    current = null;
    const data = file.buffer ?? concat(file.parts);
    const lengthOk = file.received === frame.bytes && (file.info.size === null || file.info.size === file.received);
    const sha256 = lengthOk ? await sha256Hex(data) : '';
    if (!lengthOk || sha256 !== frame.sha256) {
      const reason = lengthOk ? 'checksum_mismatch' : 'length_mismatch';
      reply({ op: 'ack', id: frame.id, ok: false, bytes: file.received, sha256, error: reason });
      options.onError?.(
        error('INVALID_REQUEST', `"${file.info.name}" failed verification (${reason}: ${file.received} of ${frame.bytes} bytes).`, reason),
        file.info,
      );
      return;
    }
    reply({ op: 'ack', id: frame.id, ok: true, bytes: file.received, sha256 });
    options.onFile?.({ ...file.info, bytes: file.received, sha256, data, ms: Date.now() - file.started });
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
