/**
 * The file-transfer helper (src/transfer) over an in-memory channel pair that behaves like an
 * RTCDataChannel (async delivery, bufferedAmount draining, bufferedamountlow, close), plus the
 * Node platform's pure helpers (ICE server conversion, SDP candidate splitting).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SwitchboardError } from '@switchboard/protocol';
import { FILE_TRANSFER_CHANNEL, files, receiveFiles, sendFile, sha256Hex, type ReceivedFile, type TransferProgress } from '../src/node/index.js';
import { nativeIceServers, parseIceUrl } from '../src/node/ice-servers.js';
import { splitCandidates } from '../src/node/sdp.js';
import { rechunk } from '../src/transfer/source.js';

/** One end of an in-memory data channel; `drainPerTick` bytes leave the buffer per macrotask. */
class FakeChannel extends EventTarget {
  peer!: FakeChannel;
  readyState: RTCDataChannelState = 'open';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  binaryType: BinaryType = 'blob';
  ordered = true;
  maxRetransmits: number | null = null;
  maxPacketLifeTime: number | null = null;
  maxBuffered = 0;
  sizes: number[] = [];
  /** Rewrites binary messages in flight (to simulate corruption). */
  tamper: ((data: Uint8Array, index: number) => Uint8Array) | null = null;
  private queue: (string | ArrayBuffer)[] = [];
  private pumping = false;

  constructor(
    readonly label: string,
    private readonly drainPerTick = 256 * 1024,
  ) {
    super();
  }

  send(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.readyState !== 'open') throw new DOMException('not open', 'InvalidStateError');
    let payload: string | ArrayBuffer;
    if (typeof data === 'string') payload = data;
    else {
      const view = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      let copy: Uint8Array = view.slice();
      this.sizes.push(copy.byteLength);
      if (this.tamper) copy = this.tamper(copy, this.sizes.length - 1);
      payload = copy.buffer as ArrayBuffer;
    }
    this.bufferedAmount += typeof payload === 'string' ? payload.length : payload.byteLength;
    this.maxBuffered = Math.max(this.maxBuffered, this.bufferedAmount);
    this.queue.push(payload);
    this.pump();
  }

  close(): void {
    for (const end of [this, this.peer]) {
      if (end.readyState === 'closed') continue;
      end.readyState = 'closed';
      setTimeout(() => end.dispatchEvent(new Event('close')), 0);
    }
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    setTimeout(() => {
      this.pumping = false;
      let budget = this.drainPerTick;
      const before = this.bufferedAmount;
      while (this.queue.length > 0 && budget > 0 && this.readyState === 'open') {
        const payload = this.queue.shift()!;
        const size = typeof payload === 'string' ? payload.length : payload.byteLength;
        budget -= size;
        this.bufferedAmount -= size;
        this.peer.dispatchEvent(new MessageEvent('message', { data: payload }));
      }
      if (before > this.bufferedAmountLowThreshold && this.bufferedAmount <= this.bufferedAmountLowThreshold)
        this.dispatchEvent(new Event('bufferedamountlow'));
      if (this.queue.length > 0) this.pump();
    }, 0);
  }
}

function channelPair(label = 'file-transfer', drainPerTick?: number): [RTCDataChannel & FakeChannel, RTCDataChannel & FakeChannel] {
  const a = new FakeChannel(label, drainPerTick);
  const b = new FakeChannel(label, drainPerTick);
  a.peer = b;
  b.peer = a;
  return [a as RTCDataChannel & FakeChannel, b as RTCDataChannel & FakeChannel];
}

function pattern(size: number, seed = 7): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const fakePc = (maxMessageSize: number | null) => ({ sctp: maxMessageSize === null ? null : { maxMessageSize } }) as unknown as RTCPeerConnection;

function nextFile(channel: RTCDataChannel): Promise<ReceivedFile> {
  return new Promise((resolve, reject) => {
    const stop = receiveFiles(channel, {
      onFile: (file) => {
        stop();
        resolve(file);
      },
      onError: (error) => {
        stop();
        reject(error);
      },
    });
  });
}

describe('sendFile / receiveFiles', () => {
  it('round-trips bytes; chunks stay below the negotiated max message size; progress reaches the total', async () => {
    const [a, b] = channelPair();
    const data = pattern(3 * 1024 * 1024 + 123);
    const received = nextFile(b);
    const progress: TransferProgress[] = [];
    const result = await sendFile(a, data, { name: 'blob.bin', pc: fakePc(262_144), chunkSize: 100_000, onProgress: (p) => progress.push(p) });
    const file = await received;
    expect(result).toMatchObject({ name: 'blob.bin', bytes: data.byteLength, sha256: hex(data) });
    expect(file).toMatchObject({ name: 'blob.bin', bytes: data.byteLength, sha256: hex(data), size: data.byteLength });
    expect(Buffer.from(file.data).equals(Buffer.from(data))).toBe(true);
    expect(Math.max(...a.sizes)).toBe(100_000);
    expect(progress.at(-1)).toMatchObject({ bytes: data.byteLength, total: data.byteLength });
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.bytes).toBeGreaterThanOrEqual(progress[i - 1]!.bytes);
    expect(b.binaryType).toBe('arraybuffer');
  });

  it('without a peer connection the chunks are 16 KiB; with one, never above sctp.maxMessageSize', async () => {
    for (const [pc, expected] of [
      [undefined, 16 * 1024],
      [fakePc(null), 16 * 1024],
      [fakePc(32 * 1024), 32 * 1024],
      [fakePc(262_144), 64 * 1024],
    ] as const) {
      const [a, b] = channelPair();
      const received = nextFile(b);
      await sendFile(a, pattern(200_000), pc ? { pc } : {});
      await received;
      expect(Math.max(...a.sizes)).toBe(expected);
    }
  });

  it('Blob, ReadableStream and async iterables of odd-sized pieces (unknown length) arrive intact', async () => {
    const data = pattern(1_000_003, 3);
    const sources = [
      () => new Blob([data.subarray(0, 500_000), data.subarray(500_000)], { type: 'application/x-test' }),
      () => new Blob([data]).stream(),
      () =>
        (async function* () {
          for (let offset = 0; offset < data.byteLength; offset += 7_777) yield data.subarray(offset, offset + 7_777);
        })(),
    ];
    for (const make of sources) {
      const [a, b] = channelPair();
      const received = nextFile(b);
      const result = await sendFile(a, make(), { pc: fakePc(65_536) });
      const file = await received;
      expect(result.sha256).toBe(hex(data));
      expect(file.sha256).toBe(hex(data));
      expect(file.bytes).toBe(data.byteLength);
      expect(a.sizes.slice(0, -1).every((s) => s === 65_536)).toBe(true);
    }
  });

  it('backpressure: the send buffer stays under the high-water mark', async () => {
    const [a, b] = channelPair('file-transfer', 64 * 1024);
    const received = nextFile(b);
    await sendFile(a, pattern(8 * 1024 * 1024), { pc: fakePc(65_536), highWaterMark: 1024 * 1024 });
    await received;
    expect(a.maxBuffered).toBeLessThanOrEqual(1024 * 1024 + 65_536 + 1024);
  });

  it('a corrupted chunk: the receiver refuses it and the sender rejects (checksum_mismatch)', async () => {
    const [a, b] = channelPair();
    a.tamper = (data, index) => {
      if (index === 3) data[10] = data[10]! ^ 0xff;
      return data;
    };
    const errors: SwitchboardError[] = [];
    const stop = receiveFiles(b, { onError: (e) => errors.push(e) });
    const error = await sendFile(a, pattern(500_000)).catch((e: unknown) => e);
    stop();
    expect(error).toBeInstanceOf(SwitchboardError);
    expect(error).toMatchObject({ name: 'FileTransferError', details: { reason: 'checksum_mismatch' } });
    expect(errors[0]?.details).toEqual({ reason: 'checksum_mismatch' });
  });

  it('refusals and failures: too large, unreliable channel, closed channel, no receiver', async () => {
    let [a, b] = channelPair();
    const stop = receiveFiles(b, { maxBytes: 1000 });
    await expect(sendFile(a, pattern(5000))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    stop();

    [a] = channelPair();
    a.ordered = false;
    a.maxPacketLifeTime = 3000;
    expect(() => sendFile(a, pattern(10))).toThrow(/not reliable and ordered/);

    [a, b] = channelPair('file-transfer', 16 * 1024);
    receiveFiles(b);
    const pending = sendFile(a, pattern(4 * 1024 * 1024), { highWaterMark: 64 * 1024 });
    setTimeout(() => a.close(), 5);
    await expect(pending).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });

    [a] = channelPair();
    await expect(sendFile(a, pattern(1000), { ackTimeoutMs: 50 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('transfers on one channel are queued; app text on the same channel is left alone; files() iterates', async () => {
    const [a, b] = channelPair();
    const texts: unknown[] = [];
    b.addEventListener('message', (e) => {
      if (typeof (e as MessageEvent).data === 'string' && !String((e as MessageEvent).data).includes('sbft')) texts.push((e as MessageEvent).data);
    });
    const iterator = files(b);
    const payloads = [pattern(300_000, 1), pattern(10, 2), pattern(200_000, 3)];
    const sends = payloads.map((p, i) => sendFile(a, p, { name: `f${i}` }));
    a.send('hello, app');
    const results = await Promise.all(sends);
    const got: ReceivedFile[] = [];
    for await (const file of iterator) {
      got.push(file);
      if (got.length === 3) break;
    }
    expect(got.map((f) => f.name)).toEqual(['f0', 'f1', 'f2']);
    expect(got.map((f) => f.sha256)).toEqual(payloads.map(hex));
    expect(results.map((r) => r.sha256)).toEqual(payloads.map(hex));
    expect(texts).toEqual(['hello, app']);
  });

  it('both directions at once on one channel: each side sends and receives', async () => {
    const [a, b] = channelPair();
    const [one, two] = [pattern(700_000, 1), pattern(900_001, 2)];
    const [atB, atA] = [nextFile(b), nextFile(a)];
    const sent = await Promise.all([sendFile(a, one, { chunkSize: 30_000 }), sendFile(b, two, { chunkSize: 50_000 })]);
    expect(sent.map((r) => r.sha256)).toEqual([hex(one), hex(two)]);
    expect(Buffer.from((await atB).data).equals(Buffer.from(one))).toBe(true);
    expect(Buffer.from((await atA).data).equals(Buffer.from(two))).toBe(true);
  });

  it("as: 'blob' delivers a Blob of the file's type (built from parts), verified; `data` says to use it", async () => {
    const [a, b] = channelPair();
    const data = pattern(1024 * 1024 + 77);
    const received = new Promise<ReceivedFile>((resolve, reject) => receiveFiles(b, { as: 'blob', onFile: resolve, onError: reject }));
    await sendFile(a, new Blob([data], { type: 'image/png' }), { chunkSize: 20_000 });
    const file = await received;
    expect(file).toMatchObject({ bytes: data.byteLength, sha256: hex(data), type: 'image/png' });
    expect(file.blob.type).toBe('image/png');
    expect(Buffer.from(await file.blob.arrayBuffer()).equals(Buffer.from(data))).toBe(true);
    expect(() => file.data).toThrow(/blob/);
    expect(Object.keys(file)).not.toContain('data');
    expect(() => receiveFiles(b, { as: 'text' as 'blob' })).toThrow(/"as"/);
  });

  it('FILE_TRANSFER_CHANNEL is a reliable ordered channel labelled file-transfer; sha256Hex matches node:crypto', async () => {
    expect(FILE_TRANSFER_CHANNEL).toEqual({ label: 'file-transfer', protocol: 'file-transfer', ordered: true });
    const data = pattern(12345);
    expect(await sha256Hex(data)).toBe(hex(data));
    expect(await sha256Hex(new Blob([data]))).toBe(hex(data));
    const pieces: number[] = [];
    for await (const chunk of rechunk([data.subarray(0, 5), data.subarray(5, 5000), data.subarray(5000)], 4096)) pieces.push(chunk.byteLength);
    expect(pieces).toEqual([4096, 4096, 4096, 57]);
  });
});

describe('Node platform helpers', () => {
  it('converts TURN REST credentials to native ICE servers (usernames with ":" survive)', () => {
    const servers = nativeIceServers([
      { urls: 'stun:127.0.0.1:3478' },
      {
        urls: ['turn:127.0.0.1:3478?transport=udp', 'turn:[::1]?transport=tcp', 'turns:turn.example.com:443'],
        username: '1700000000:alice',
        credential: 'c2VjcmV0',
      },
    ]);
    expect(servers).toEqual([
      { hostname: '127.0.0.1', port: 3478 },
      { hostname: '127.0.0.1', port: 3478, username: '1700000000:alice', password: 'c2VjcmV0', relayType: 'TurnUdp' },
      { hostname: '::1', port: 3478, username: '1700000000:alice', password: 'c2VjcmV0', relayType: 'TurnTcp' },
      { hostname: 'turn.example.com', port: 443, username: '1700000000:alice', password: 'c2VjcmV0', relayType: 'TurnTls' },
    ]);
    expect(parseIceUrl('turns:host')).toEqual({ scheme: 'turns', hostname: 'host', port: 5349, transport: null });
    expect(() => nativeIceServers([{ urls: 'turn:127.0.0.1' }])).toThrow(/username and a credential/);
    expect(() => nativeIceServers([{ urls: 'http://x' }])).toThrow(/Unsupported ICE server URL/);
  });

  it('splits candidates out of an SDP, keeping their mid', () => {
    const sdp = [
      'v=0',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'a=mid:0',
      'a=candidate:1 1 UDP 2114977791 127.0.0.1 5000 typ host',
      'a=end-of-candidates',
      'a=setup:actpass',
      '',
    ].join('\r\n');
    const split = splitCandidates(sdp);
    expect(split.candidates).toEqual([{ candidate: 'candidate:1 1 UDP 2114977791 127.0.0.1 5000 typ host', mid: '0' }]);
    expect(split.sdp).toBe(['v=0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:0', 'a=setup:actpass', ''].join('\r\n'));
  });
});
