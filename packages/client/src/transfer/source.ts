/** What sendFile accepts, turned into chunks of at most `chunkSize` bytes, and its SHA-256. */
import { SwitchboardError } from '@switchboard/protocol';
import { concat, sha256Hex } from './hash.js';
import { createSha256 } from './sha256.js';

export type FileData = Blob | ArrayBuffer | ArrayBufferView | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

export interface Source {
  /** Known up front, or null for streams. */
  size: number | null;
  name: string | null;
  type: string;
  chunks(chunkSize: number): AsyncIterable<Uint8Array>;
  /** The SHA-256 of every byte `chunks` produced; call after they were all consumed. */
  digest(): Promise<string>;
}

function bufferSource(bytes: Uint8Array, name: string | null, type: string): Source {
  const digest = sha256Hex(bytes); // started now: WebCrypto hashes off the main thread while we send
  digest.catch(() => undefined);
  return {
    size: bytes.byteLength,
    name,
    type,
    async *chunks(chunkSize) {
      for (let offset = 0; offset < bytes.byteLength; offset += chunkSize) yield bytes.subarray(offset, offset + chunkSize);
    },
    digest: () => digest,
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

function isReadableStream(value: unknown): value is ReadableStream<Uint8Array> {
  return typeof value === 'object' && value !== null && typeof (value as ReadableStream).getReader === 'function';
}

async function* readStream(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

function toBytes(piece: unknown): Uint8Array {
  if (piece instanceof Uint8Array) return piece;
  if (piece instanceof ArrayBuffer) return new Uint8Array(piece);
  if (ArrayBuffer.isView(piece)) return new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength);
  throw SwitchboardError.invalidParameter('sendFile: a stream yielded something other than bytes (Uint8Array or ArrayBuffer).');
}

/** Splits and joins the pieces of a stream into chunks of exactly `size` bytes (the last may be shorter). */
export async function* rechunk(pieces: AsyncIterable<unknown> | Iterable<unknown>, size: number): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for await (const raw of pieces) {
    let piece = toBytes(raw);
    while (piece.byteLength > 0) {
      if (pendingBytes === 0 && piece.byteLength >= size) {
        yield piece.subarray(0, size);
        piece = piece.subarray(size);
        continue;
      }
      const take = Math.min(size - pendingBytes, piece.byteLength);
      pending.push(piece.subarray(0, take));
      pendingBytes += take;
      piece = piece.subarray(take);
      if (pendingBytes === size) {
        yield concat(pending);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0) yield concat(pending);
}

function streamSource(pieces: AsyncIterable<unknown>): Source {
  // Hashed chunk by chunk as it is sent: a stream of any length is never held in memory.
  const hash = createSha256();
  return {
    size: null,
    name: null,
    type: 'application/octet-stream',
    async *chunks(chunkSize) {
      for await (const chunk of rechunk(pieces, chunkSize)) {
        hash.update(chunk);
        yield chunk;
      }
    },
    digest: async () => hash.hex(),
  };
}

export async function toSource(data: FileData): Promise<Source> {
  if (typeof Blob !== 'undefined' && data instanceof Blob) {
    const name = typeof (data as File).name === 'string' ? (data as File).name : null;
    return bufferSource(new Uint8Array(await data.arrayBuffer()), name, data.type || 'application/octet-stream');
  }
  if (data instanceof ArrayBuffer) return bufferSource(new Uint8Array(data), null, 'application/octet-stream');
  if (ArrayBuffer.isView(data)) return bufferSource(toBytes(data), null, 'application/octet-stream');
  if (isReadableStream(data)) return streamSource(readStream(data));
  if (isAsyncIterable(data)) return streamSource(data);
  throw SwitchboardError.invalidParameter(
    'sendFile: "data" should be a Blob, an ArrayBuffer, a typed array, a ReadableStream or an async iterable of Uint8Array.',
  );
}
