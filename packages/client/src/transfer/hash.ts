/** SHA-256 with WebCrypto (`crypto.subtle`, in browsers and in Node ≥ 20), as lowercase hex. */
import { SwitchboardError } from '@switchboard/protocol';

function subtle(): SubtleCrypto {
  const crypto = (globalThis as { crypto?: Crypto }).crypto;
  if (!crypto?.subtle) {
    throw new SwitchboardError(
      'NOT_SUPPORTED',
      'WebCrypto (crypto.subtle) is not available: file transfer needs a secure context (https or localhost) or Node 20+.',
    );
  }
  return crypto.subtle;
}

export function toHex(buffer: ArrayBuffer): string {
  let out = '';
  for (const byte of new Uint8Array(buffer)) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** SHA-256 of bytes, a Blob, or several pieces in order (joined first: WebCrypto digests one buffer). */
export async function sha256Hex(data: ArrayBuffer | ArrayBufferView | Blob | readonly Uint8Array[]): Promise<string> {
  let input: BufferSource;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) input = data as BufferSource;
  else if (typeof Blob !== 'undefined' && data instanceof Blob) input = await data.arrayBuffer();
  else input = concat(data as readonly Uint8Array[]) as Uint8Array<ArrayBuffer>;
  return toHex(await subtle().digest('SHA-256', input));
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let size = 0;
  for (const part of parts) size += part.byteLength;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

export function randomId(): string {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  return toHex(bytes.buffer);
}
