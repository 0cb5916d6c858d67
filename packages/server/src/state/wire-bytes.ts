/**
 * Bytes for a frame that is written to one socket and then dropped (a numbered copy). They are
 * carved from shared slabs, as Node's own pool does for Buffers under 4 KB, but with room for a
 * relayed SDP: one 4 KB Buffer per relayed description would be one ArrayBuffer outside the heap
 * each, which V8 must track and free. A slab is never reused; it is freed once its last frame
 * was written and dropped.
 */
const SLAB_BYTES = 64 * 1024;
/** Larger frames get their own Buffer: a slab would waste most of itself on them. */
const LARGEST_CARVED = 16 * 1024;

let slab = Buffer.allocUnsafeSlow(0);
let used = 0;

export function wireBytes(length: number): Buffer {
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
