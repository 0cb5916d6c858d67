/**
 * Random identifiers (connection ids, guest user ids) cut from a pool of crypto-random bytes:
 * one randomFillSync per 4 KiB instead of a randomBytes call (and its native round trip) per id,
 * which was a visible part of accepting a connection. The bytes are as unpredictable as ever.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/** `bytes` (at most 4 KiB) fresh random bytes as base64url; no byte is ever handed out twice. */
export function randomId(bytes: number): string {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + bytes);
  offset += bytes;
  return id;
}
