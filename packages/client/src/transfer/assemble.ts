/**
 * Where a received file's chunks go while they arrive, so that nothing at the end touches the
 * whole file at once: each chunk is hashed (incremental SHA-256) and stored as it comes, either
 * copied into one preallocated buffer ('bytes') or gathered into Blob parts of about 512 KiB
 * ('blob'; a Blob made of Blobs is not copied again, so the final Blob costs next to nothing).
 *
 * Self-contained like createSha256 (which it is handed): it also runs inside the receiver's Worker.
 */
import type { Sha256 } from './sha256.js';

export type ReceiveAs = 'bytes' | 'blob';

export interface Assembled {
  sha256: string;
  /** With 'bytes'. */
  data?: Uint8Array;
  /** With 'blob'. */
  blob?: Blob;
}

export interface Assembly {
  add(chunk: Uint8Array): void;
  finish(): Assembled;
}

export function createAssembly(createSha256: () => Sha256, as: ReceiveAs, size: number | null, type: string): Assembly {
  const PART_BYTES = 512 * 1024; // Blob parts: small copies, spread over the transfer
  const hash = createSha256();
  const buffer = as === 'bytes' && size !== null ? new Uint8Array(size) : null;
  const blobs: Blob[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let received = 0;
  const fold = (): void => {
    if (pending.length > 0) blobs.push(new Blob(pending as Uint8Array<ArrayBuffer>[]));
    pending = [];
    pendingBytes = 0;
  };
  return {
    add(chunk) {
      hash.update(chunk);
      if (buffer) buffer.set(chunk, received);
      else pending.push(chunk);
      received += chunk.byteLength;
      pendingBytes += chunk.byteLength;
      if (as === 'blob' && pendingBytes >= PART_BYTES) fold();
    },
    finish() {
      const sha256 = hash.hex();
      if (as === 'blob') {
        fold();
        return { sha256, blob: new Blob(blobs, { type }) };
      }
      if (buffer) return { sha256, data: buffer };
      if (pending.length === 1) return { sha256, data: pending[0]! };
      const data = new Uint8Array(received);
      let offset = 0;
      for (const part of pending) {
        data.set(part, offset);
        offset += part.byteLength;
      }
      return { sha256, data };
    },
  };
}
