/**
 * Bytes for a frame that is written to one socket and then dropped (a numbered copy).
 *
 * Frames of 4–8 KB (a relayed SDP) are carved from shared 16 KiB slabs: a Buffer of its own per
 * relayed description would be one ArrayBuffer outside the heap each, which V8 must track and
 * free. A slab is never reused; it is freed once its last frame was written and dropped. A slow
 * socket that holds one frame holds its slab, so a slab carries at most four frames: a held
 * frame keeps at most four times its size alive, as Node's own 8 KiB pool does for smaller
 * Buffers, which is where those come from. Larger frames get a Buffer of their own.
 */
const SLAB_BYTES = 16 * 1024;
const SMALLEST_CARVED = 4 * 1024;
const LARGEST_CARVED = SLAB_BYTES / 2;

let slab = Buffer.allocUnsafeSlow(0);
let used = 0;

export function wireBytes(length: number): Buffer {
  if (length < SMALLEST_CARVED) return Buffer.allocUnsafe(length);
  if (length > LARGEST_CARVED) return Buffer.allocUnsafeSlow(length);
  if (used + length > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
  const bytes = slab.subarray(used, used + length);
  // Aligned starts, as Node's pool keeps them.
  used = (used + length + 7) & ~7;
  return bytes;
}
