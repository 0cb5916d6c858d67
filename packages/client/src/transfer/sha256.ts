/**
 * Incremental SHA-256 (FIPS 180-4) in plain JS. WebCrypto only digests one whole buffer, so a
 * receiver using it must hold and copy the entire file before it can check it; this one takes the
 * chunks as they arrive, so the check is done when the last byte is.
 *
 * Self-contained on purpose (no reference outside its own body, nothing a bundler adds helpers
 * for): the receiver also runs it in a Worker built from its source text (receive-worker.ts).
 */
export interface Sha256 {
  update(data: Uint8Array): void;
  /** Lowercase hex; the hasher is finished afterwards. */
  hex(): string;
}

export function createSha256(): Sha256 {
  // prettier-ignore
  const K = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
  const state = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Int32Array(64);
  const block = new Uint8Array(64); // a partial block carried over to the next update
  let blockBytes = 0;
  let total = 0;
  let finished = false;

  /** The compression function over `bytes[from, to)`, a whole number of 64-byte blocks. */
  const compress = (bytes: Uint8Array, from: number, to: number): void => {
    let h0 = state[0]!,
      h1 = state[1]!,
      h2 = state[2]!,
      h3 = state[3]!,
      h4 = state[4]!,
      h5 = state[5]!,
      h6 = state[6]!,
      h7 = state[7]!;
    for (let p = from; p < to; p += 64) {
      for (let i = 0; i < 16; i++) {
        const j = p + i * 4;
        w[i] = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!;
      }
      for (let i = 16; i < 64; i++) {
        const x = w[i - 15]!;
        const y = w[i - 2]!;
        const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
      }
      let a = h0,
        b = h1,
        c = h2,
        d = h3,
        e = h4,
        f = h5,
        g = h6,
        h = h7;
      for (let i = 0; i < 64; i++) {
        const t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
        const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        h = g;
        g = f;
        f = e;
        e = (d + t1) | 0;
        d = c;
        c = b;
        b = a;
        a = (t1 + t2) | 0;
      }
      h0 = (h0 + a) | 0;
      h1 = (h1 + b) | 0;
      h2 = (h2 + c) | 0;
      h3 = (h3 + d) | 0;
      h4 = (h4 + e) | 0;
      h5 = (h5 + f) | 0;
      h6 = (h6 + g) | 0;
      h7 = (h7 + h) | 0;
    }
    state.set([h0, h1, h2, h3, h4, h5, h6, h7]);
  };

  return {
    update(data) {
      if (finished) throw new Error('sha256: update() after hex()');
      total += data.byteLength;
      let offset = 0;
      if (blockBytes > 0) {
        offset = Math.min(64 - blockBytes, data.byteLength);
        block.set(data.subarray(0, offset), blockBytes);
        blockBytes += offset;
        if (blockBytes < 64) return;
        compress(block, 0, 64);
        blockBytes = 0;
      }
      const whole = offset + ((data.byteLength - offset) & ~63);
      if (whole > offset) compress(data, offset, whole);
      if (whole < data.byteLength) {
        block.set(data.subarray(whole), 0);
        blockBytes = data.byteLength - whole;
      }
    },
    hex() {
      if (finished) throw new Error('sha256: hex() twice');
      finished = true;
      const tail = new Uint8Array(blockBytes < 56 ? 64 : 128);
      tail.set(block.subarray(0, blockBytes));
      tail[blockBytes] = 0x80;
      const view = new DataView(tail.buffer);
      view.setUint32(tail.length - 8, Math.floor(total / 0x20000000)); // the length in bits, high word
      view.setUint32(tail.length - 4, (total * 8) >>> 0);
      compress(tail, 0, tail.length);
      let out = '';
      for (let i = 0; i < 8; i++) out += (state[i]! >>> 0).toString(16).padStart(8, '0');
      return out;
    },
  };
}
