/**
 * The receiver's incremental SHA-256 (src/transfer/sha256.ts) and chunk assembly (assemble.ts):
 * FIPS 180 vectors, every split of the 64-byte block boundary, random data in random pieces
 * against node:crypto, and both functions still working when rebuilt from their source text
 * (which is how the receiver's Worker gets them).
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAssembly } from '../src/transfer/assemble.js';
import { createSha256 } from '../src/transfer/sha256.js';
import { Sinks } from '../src/transfer/sink.js';

const nodeHex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Hashes `data` fed in pieces of the given sizes (cycled). */
function inPieces(data: Uint8Array, sizes: number[], make = createSha256): string {
  const hash = make();
  for (let offset = 0, i = 0; offset < data.byteLength; i++) {
    const size = Math.max(1, sizes[i % sizes.length]!);
    hash.update(data.subarray(offset, offset + size));
    offset += size;
  }
  return hash.hex();
}

/** A deterministic generator, so a failure names a reproducible case. */
function random(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

describe('createSha256', () => {
  it('gives the FIPS 180 test vectors', () => {
    const text = (s: string) => {
      const hash = createSha256();
      hash.update(new TextEncoder().encode(s));
      return hash.hex();
    };
    expect(text('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(text('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(text('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    const million = new Uint8Array(1_000_000).fill(0x61);
    expect(inPieces(million, [4096])).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('equals node:crypto for every length around the block and padding boundaries, in any split', () => {
    const data = randomBytes(300);
    for (let length = 0; length <= 300; length++) {
      const slice = data.subarray(0, length);
      const expected = nodeHex(slice);
      expect(inPieces(slice, [length || 1]), `${length} bytes in one piece`).toBe(expected);
      expect(inPieces(slice, [1]), `${length} bytes one at a time`).toBe(expected);
      for (const first of [1, 55, 56, 63, 64, 65]) expect(inPieces(slice, [first, 7, 64, 129]), `${length} bytes from ${first}`).toBe(expected);
    }
  });

  it('equals node:crypto on random data in random pieces (up to a few MB)', () => {
    const next = random(1234);
    for (const size of [4095, 65_536, 65_537, 1_000_003, 3 * 1024 * 1024 + 17]) {
      const data = randomBytes(size);
      const sizes = Array.from({ length: 50 }, () => 1 + Math.floor(next() * 200_000));
      expect(inPieces(data, sizes), `${size} bytes`).toBe(nodeHex(data));
      expect(inPieces(data, [65_536]), `${size} bytes in 64 KiB chunks`).toBe(nodeHex(data));
    }
  });

  it('is finished after hex()', () => {
    const hash = createSha256();
    hash.update(new Uint8Array(3));
    hash.hex();
    expect(() => hash.update(new Uint8Array(1))).toThrow(/after hex/);
    expect(() => hash.hex()).toThrow(/twice/);
  });

  it('works rebuilt from its source text (as in the Worker): it uses nothing from outside itself', () => {
    const rebuilt = new Function(`return (${String(createSha256)});`)() as typeof createSha256;
    const data = randomBytes(200_000);
    expect(inPieces(data, [1000, 63, 64, 65_536], rebuilt)).toBe(nodeHex(data));
  });
});

describe('createAssembly', () => {
  const data = randomBytes(2 * 1024 * 1024 + 333);
  const feed = (assembly: ReturnType<typeof createAssembly>, chunk: number) => {
    for (let offset = 0; offset < data.byteLength; offset += chunk) assembly.add(data.slice(offset, offset + chunk));
    return assembly.finish();
  };

  it("keeps 'bytes' in one buffer (announced size or not) with the SHA-256 of all of them", () => {
    for (const size of [data.byteLength, null]) {
      const done = feed(createAssembly(createSha256, 'bytes', size, 'application/x-test'), 65_536);
      expect(done.sha256).toBe(nodeHex(data));
      expect(Buffer.from(done.data!).equals(data)).toBe(true);
      expect(done.blob).toBeUndefined();
    }
  });

  it("builds a 'blob' of the file's type from parts, with the same bytes", async () => {
    const done = feed(createAssembly(createSha256, 'blob', data.byteLength, 'video/mp4'), 16_384);
    expect(done.sha256).toBe(nodeHex(data));
    expect(done.data).toBeUndefined();
    expect(done.blob!.type).toBe('video/mp4');
    expect(Buffer.from(await done.blob!.arrayBuffer()).equals(data)).toBe(true);
  });

  it('works rebuilt from its source text, with a rebuilt hasher (as in the Worker)', async () => {
    const assemble = new Function(`return (${String(createAssembly)});`)() as typeof createAssembly;
    const sha256 = new Function(`return (${String(createSha256)});`)() as typeof createSha256;
    const done = feed(assemble(sha256, 'blob', null, ''), 100_000);
    expect(done.sha256).toBe(nodeHex(data));
    expect(Buffer.from(await done.blob!.arrayBuffer()).equals(data)).toBe(true);
  });

  it('without a Worker (Node), a sink assembles on the calling thread', async () => {
    const sinks = new Sinks(false);
    const sink = sinks.open('bytes', 5, '');
    sink.add(new Uint8Array([1, 2, 3]).buffer);
    sink.add(new Uint8Array([4, 5]).buffer);
    const done = await sink.finish();
    expect([...done.data!]).toEqual([1, 2, 3, 4, 5]);
    expect(done.sha256).toBe(nodeHex(new Uint8Array([1, 2, 3, 4, 5])));
    sinks.close();
  });
});
