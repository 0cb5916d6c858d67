/**
 * sendFile: a large binary payload over one reliable, ordered data channel, chunked below the
 * negotiated max message size, with backpressure (`bufferedAmountLowThreshold` +
 * `bufferedamountlow`), progress events, and an end-to-end check: it resolves once the
 * receiver (receiveFiles) reassembled the bytes and confirmed their length and SHA-256.
 */
import { SwitchboardError } from '@switchboard/protocol';
import { encodeFrame, parseFrame, type Frame } from './frames.js';
import { randomId } from './hash.js';
import { toSource, type FileData } from './source.js';

export interface TransferProgress {
  id: string;
  name: string;
  /** Bytes handed to the network so far (queued minus `bufferedAmount`); `total` once the receiver confirmed. */
  bytes: number;
  /** Total size, or null for a stream of unknown length. */
  total: number | null;
}

export interface SendFileOptions {
  /** Shown to the receiver (default: the File's name, else 'file'). */
  name?: string;
  /** MIME type (default: the Blob's type, else application/octet-stream). */
  type?: string;
  onProgress?: (progress: TransferProgress) => void;
  /** The call's peer connection (`resolved.target`): chunks stay below its `sctp.maxMessageSize`. Without it: 16 KiB chunks. */
  pc?: RTCPeerConnection;
  /** Upper bound on the chunk size (default 64 KiB; never above the negotiated max message size). */
  chunkSize?: number;
  /** Pause sending while more than this is buffered (default 4 MiB); resume at a quarter of it. */
  highWaterMark?: number;
  /** How long to wait for the receiver's confirmation after the last byte (default 30 s). */
  ackTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface SendFileResult {
  id: string;
  name: string;
  bytes: number;
  /** SHA-256 (lowercase hex) of the bytes sent, as confirmed by the receiver. */
  sha256: string;
  /** From the first byte to the receiver's confirmation. */
  ms: number;
}

export const FALLBACK_CHUNK = 16 * 1024;
export const DEFAULT_CHUNK = 64 * 1024;
export const DEFAULT_HIGH_WATER = 4 * 1024 * 1024;

const queues = new WeakMap<RTCDataChannel, Promise<unknown>>();

function fail(code: 'INVALID_REQUEST' | 'CONNECTION_CLOSED' | 'TIMEOUT' | 'PAYLOAD_TOO_LARGE', message: string, reason: string): SwitchboardError {
  return new SwitchboardError(code, message, { name: 'FileTransferError', details: { reason } });
}

/** Reliable and ordered, or a transfer could silently lose or reorder chunks. */
export function checkChannel(channel: RTCDataChannel): void {
  if (!channel || typeof channel.send !== 'function') throw SwitchboardError.invalidParameter('sendFile: "channel" should be an RTCDataChannel.');
  if (channel.ordered === false || (channel.maxRetransmits ?? null) !== null || (channel.maxPacketLifeTime ?? null) !== null) {
    throw fail(
      'INVALID_REQUEST',
      `Data channel "${channel.label}" is not reliable and ordered; files need one. Open it as ` +
        `{ label: 'file-transfer', ordered: true } (FILE_TRANSFER_CHANNEL), not the 'file-transfer' preset, which drops late chunks.`,
      'unreliable_channel',
    );
  }
}

/** The largest chunk the peer accepts: `pc.sctp.maxMessageSize`, else 16 KiB. */
export function chunkSizeFor(options: Pick<SendFileOptions, 'pc' | 'chunkSize'>): number {
  const negotiated = options.pc?.sctp?.maxMessageSize;
  const limit = typeof negotiated === 'number' && Number.isFinite(negotiated) && negotiated > 0 ? negotiated : FALLBACK_CHUNK;
  const wanted = options.chunkSize ?? DEFAULT_CHUNK;
  return Math.max(1024, Math.min(wanted, limit));
}

export function sendFile(channel: RTCDataChannel, data: FileData, options: SendFileOptions = {}): Promise<SendFileResult> {
  checkChannel(channel);
  const previous = queues.get(channel) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => transfer(channel, data, options));
  queues.set(
    channel,
    run.catch(() => undefined),
  );
  return run;
}

async function transfer(channel: RTCDataChannel, data: FileData, options: SendFileOptions): Promise<SendFileResult> {
  if (channel.readyState !== 'open') throw fail('CONNECTION_CLOSED', `Data channel "${channel.label}" is not open.`, 'channel_closed');
  options.signal?.throwIfAborted();
  const source = await toSource(data);
  const id = randomId();
  const name = options.name ?? source.name ?? 'file';
  const chunkSize = chunkSizeFor(options);
  const high = Math.max(chunkSize, options.highWaterMark ?? DEFAULT_HIGH_WATER);
  const watch = new ChannelWatch(channel, id);
  const previousThreshold = channel.bufferedAmountLowThreshold;
  channel.bufferedAmountLowThreshold = Math.floor(high / 4);
  let sent = 0;
  const started = Date.now();
  const progress = (bytes: number): void => options.onProgress?.({ id, name, bytes, total: source.size });
  try {
    channel.send(encodeFrame({ op: 'start', id, name, type: options.type ?? source.type, size: source.size }));
    for await (const chunk of source.chunks(chunkSize)) {
      if (channel.bufferedAmount > high) await watch.drained(high / 4, options.signal);
      watch.check(options.signal);
      channel.send(chunk as Uint8Array<ArrayBuffer>); // (a SharedArrayBuffer view would be refused by send())
      sent += chunk.byteLength;
      progress(Math.max(0, sent - channel.bufferedAmount));
    }
    const sha256 = await source.digest();
    watch.check(options.signal);
    channel.send(encodeFrame({ op: 'end', id, bytes: sent, sha256 }));
    const ack = await watch.ack(options.ackTimeoutMs ?? 30_000, options.signal);
    if (!ack.ok) {
      const tooLarge = ack.error === 'too_large';
      throw fail(
        tooLarge ? 'PAYLOAD_TOO_LARGE' : 'INVALID_REQUEST',
        `The receiver refused "${name}": ${ack.error ?? 'unknown reason'}.`,
        ack.error ?? 'refused',
      );
    }
    if (ack.sha256 !== sha256 || ack.bytes !== sent) {
      throw fail('INVALID_REQUEST', `The receiver got different bytes for "${name}" (${ack.bytes} bytes, sha256 ${ack.sha256}).`, 'checksum_mismatch');
    }
    progress(sent);
    return { id, name, bytes: sent, sha256, ms: Date.now() - started };
  } catch (error) {
    if (channel.readyState === 'open') {
      try {
        channel.send(encodeFrame({ op: 'abort', id, reason: error instanceof Error ? error.message.slice(0, 200) : 'aborted' }));
      } catch {
        // the channel went away meanwhile
      }
    }
    throw error;
  } finally {
    watch.dispose();
    if (channel.readyState === 'open') channel.bufferedAmountLowThreshold = previousThreshold;
  }
}

/** Listens on the channel for what a transfer waits for: drain, the receiver's ack, close. */
class ChannelWatch {
  private ackFrame: Extract<Frame, { op: 'ack' }> | null = null;
  private closed = false;
  private wake: (() => void) | null = null;
  private readonly onMessage = (event: MessageEvent): void => {
    const frame = parseFrame(event.data);
    if (frame?.op === 'ack' && frame.id === this.id) {
      this.ackFrame = frame;
      this.wake?.();
    } else if (frame?.op === 'abort' && frame.id === this.id) {
      this.ackFrame = { op: 'ack', id: this.id, ok: false, bytes: 0, sha256: '', error: frame.reason };
      this.wake?.();
    }
  };
  private readonly onClose = (): void => {
    this.closed = true;
    this.wake?.();
  };
  private readonly onLow = (): void => this.wake?.();

  constructor(
    private readonly channel: RTCDataChannel,
    private readonly id: string,
  ) {
    channel.addEventListener('message', this.onMessage);
    channel.addEventListener('close', this.onClose);
    channel.addEventListener('bufferedamountlow', this.onLow);
  }

  check(signal?: AbortSignal): void {
    signal?.throwIfAborted();
    if (this.closed || this.channel.readyState !== 'open') {
      throw fail('CONNECTION_CLOSED', `Data channel "${this.channel.label}" closed during the transfer.`, 'channel_closed');
    }
    if (this.ackFrame && !this.ackFrame.ok)
      throw fail('INVALID_REQUEST', `The receiver stopped the transfer: ${this.ackFrame.error ?? 'aborted'}.`, this.ackFrame.error ?? 'aborted');
  }

  /** Resolves when `bufferedAmount` is at most `low` (event, with a slow poll as a safety net). */
  async drained(low: number, signal?: AbortSignal): Promise<void> {
    while (this.channel.bufferedAmount > low) {
      this.check(signal);
      await this.sleep(250, signal);
    }
  }

  async ack(timeoutMs: number, signal?: AbortSignal): Promise<Extract<Frame, { op: 'ack' }>> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ackFrame) {
      this.check(signal);
      const left = deadline - Date.now();
      if (left <= 0)
        throw fail('TIMEOUT', `No confirmation from the receiver within ${timeoutMs} ms (is receiveFiles listening on "${this.channel.label}"?).`, 'no_ack');
      await this.sleep(left, signal);
    }
    return this.ackFrame;
  }

  dispose(): void {
    this.channel.removeEventListener('message', this.onMessage);
    this.channel.removeEventListener('close', this.onClose);
    this.channel.removeEventListener('bufferedamountlow', this.onLow);
    this.wake?.();
  }

  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }
}
