/**
 * sendFile / receiveFiles between two Node peers over a real call (node-datachannel, 127.0.0.1):
 * 50 MB with the helper (chunked below sctp.maxMessageSize, backpressure, SHA-256 verified by the
 * receiver), next to raw RTCDataChannel.send in 16 KiB chunks with simple backpressure.
 * bench/transfer.mjs does the same with medians of several runs, and Node → Chromium.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { FILE_TRANSFER_CHANNEL, livePeerConnections, receiveFiles, sendFile, type ReceivedFile } from '../src/node/index.js';
import { connectPair, NodePeer } from './node-harness.js';
import { startServer, until, type TestServer } from './server.js';

const SIZE = 50 * 1024 * 1024;
let server: TestServer;
const peers: NodePeer[] = [];

beforeAll(async () => {
  server = await startServer();
});
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await until(() => livePeerConnections() === 0, 5_000, 'peer connections closed');
});
afterAll(() => server.close());

function payload(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let x = 0x9e3779b9;
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view.setUint32(i, x >>> 0);
  }
  return out;
}

/** Raw RTCDataChannel.send in 16 KiB chunks, pausing above 1 MiB buffered until bufferedamountlow (256 KiB). */
export async function rawSend(channel: RTCDataChannel, data: Uint8Array<ArrayBuffer>, chunk = 16 * 1024): Promise<void> {
  channel.bufferedAmountLowThreshold = 256 * 1024;
  for (let offset = 0; offset < data.byteLength; offset += chunk) {
    if (channel.bufferedAmount > 1024 * 1024) {
      await new Promise<void>((resolve) => channel.addEventListener('bufferedamountlow', () => resolve(), { once: true }));
    }
    channel.send(data.subarray(offset, offset + chunk));
  }
}

function countBytes(channel: RTCDataChannel, total: number): Promise<number> {
  channel.binaryType = 'arraybuffer';
  return new Promise((resolve) => {
    let got = 0;
    const onMessage = (event: MessageEvent): void => {
      if (!(event.data instanceof ArrayBuffer)) return;
      got += event.data.byteLength;
      if (got >= total) {
        channel.removeEventListener('message', onMessage);
        resolve(got);
      }
    };
    channel.addEventListener('message', onMessage);
  });
}

it('50 MB Node → Node: the helper delivers verified bytes; raw 16 KiB sends measured in the same call', async () => {
  const a = new NodePeer({ url: server.url, token: await server.token('sender') });
  const b = new NodePeer({ url: server.url, token: await server.token('receiver') });
  peers.push(a, b);
  await a.connect('transfer');
  await b.connect('transfer');
  const { caller, callee } = await connectPair(a, b, { caller: { channels: [{ label: 'default' }, FILE_TRANSFER_CHANNEL] }, label: 'file-transfer' });
  const out = caller.channels['file-transfer']!;
  const inbound = callee.channels['file-transfer']!;
  expect(out.ordered).toBe(true);
  const data = payload(SIZE);
  const expected = createHash('sha256').update(data).digest('hex');

  const received = new Promise<ReceivedFile>((resolve, reject) => {
    const stop = receiveFiles(inbound, {
      onFile: (file) => {
        stop();
        resolve(file);
      },
      onError: reject,
    });
  });
  let progressCalls = 0;
  const started = performance.now();
  const result = await sendFile(out, data, { name: 'fifty.bin', pc: caller.target, onProgress: () => progressCalls++ });
  const helperMs = performance.now() - started;
  const file = await received;
  expect(result).toMatchObject({ name: 'fifty.bin', bytes: SIZE, sha256: expected });
  expect(file).toMatchObject({ name: 'fifty.bin', bytes: SIZE, sha256: expected });
  expect(createHash('sha256').update(file.data).digest('hex')).toBe(expected);
  expect(progressCalls).toBeGreaterThan(10);

  const counted = countBytes(inbound, SIZE);
  const rawStarted = performance.now();
  await rawSend(out, data);
  await counted;
  const rawMs = performance.now() - rawStarted;
  const mbps = (ms: number): string => (SIZE / 1e6 / (ms / 1000)).toFixed(1);
  console.info(
    `[node-transfer] 50 MB Node→Node: helper ${mbps(helperMs)} MB/s (${Math.round(helperMs)} ms, chunks ≤ ${caller.target.sctp?.maxMessageSize} B negotiated), ` +
      `raw 16 KiB ${mbps(rawMs)} MB/s (${Math.round(rawMs)} ms)`,
  );
}, 120_000);
