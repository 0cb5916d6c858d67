/**
 * Bytes for a frame that is written to one socket and then dropped (a numbered copy).
 *
 * Frames of 4–8 KB (a relayed SDP) are carved from shared 16 KiB slabs: a Buffer of its own per
 * relayed description would be one ArrayBuffer outside the heap each, which V8 must track and
 * free. A slow socket that holds one frame holds its slab, so a slab carries at most four frames:
 * a held frame keeps at most four times its size alive, as Node's own 8 KiB pool does for smaller
 * Buffers, which is where those come from. Larger frames get a Buffer of their own.
 *
 * A slab is reused only when every frame carved from it was given back (`recycleWireBytes`) by
 * code that knows the bytes were handed to the kernel and nothing reads them any more; a frame
 * that is simply dropped keeps its slab from being reused, and the collector frees it as before.
 * Reuse matters because the replay buffer holds a frame's bytes until the client confirms them
 * (a fraction of a second): slabs that live that long are promoted to V8's old generation, whose
 * growth (ArrayBuffers included) is what starts a full collection.
 */
const SLAB_BYTES = 16 * 1024;
const SMALLEST_CARVED = 4 * 1024;
const LARGEST_CARVED = SLAB_BYTES / 2;
/** Slabs kept for reuse at most (1 MiB): enough for a busy second's confirmations to feed the next carvings. */
const MAX_SPARE_SLABS = 64;

interface Slab {
  readonly bytes: Buffer;
  /** Where the frames carved from it and not given back yet start (at most four). */
  readonly out: number[];
}

const slabOf = new WeakMap<ArrayBufferLike, Slab>();
const spare: Slab[] = [];
let slab: Slab | null = null;
let used = 0;

export function wireBytes(length: number): Buffer {
  if (length < SMALLEST_CARVED) return Buffer.allocUnsafe(length);
  if (length > LARGEST_CARVED) return Buffer.allocUnsafeSlow(length);
  if (slab === null || used + length > SLAB_BYTES) {
    const full = slab;
    slab = spare.pop() ?? newSlab();
    used = 0;
    if (full !== null && full.out.length === 0) keepSpare(full);
  }
  const bytes = slab.bytes.subarray(used, used + length);
  slab.out.push(used);
  // Aligned starts, as Node's pool keeps them.
  used = (used + length + 7) & ~7;
  return bytes;
}

/**
 * Gives back bytes from wireBytes that were written and will never be read again: their slab is
 * reused once all its frames are back. Anything else (bytes given back already, or not carved
 * from a slab) is ignored.
 */
export function recycleWireBytes(bytes: Buffer): void {
  const owner = slabOf.get(bytes.buffer);
  const at = owner?.out.indexOf(bytes.byteOffset) ?? -1;
  if (owner === undefined || at === -1) return;
  owner.out.splice(at, 1);
  if (owner.out.length === 0 && owner !== slab) keepSpare(owner);
}

function newSlab(): Slab {
  const fresh: Slab = { bytes: Buffer.allocUnsafeSlow(SLAB_BYTES), out: [] };
  slabOf.set(fresh.bytes.buffer, fresh);
  return fresh;
}

function keepSpare(done: Slab): void {
  if (spare.length < MAX_SPARE_SLABS) spare.push(done);
}
