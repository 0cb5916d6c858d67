/**
 * Bytes given back for reuse are never on their way to a socket: a client that stops reading
 * while it confirms everything it was sent (`rx`, which a hostile client may do) keeps its
 * frames' bytes from reuse until its socket wrote them, however much other traffic needs slabs
 * meanwhile. Real server, real sockets on loopback; bounded in count and time.
 */
import { describe, expect, it } from 'vitest';
import { join, startServer, useCleanup, type Frame, type TestClient } from '../helpers.js';
import { lastSeqOf } from '../resume-helpers.js';

useCleanup();

const MiB = 1024 * 1024;
/** Enough 7 KB descriptions to fill the loopback socket's buffers many times over, so the server holds some unwritten. */
const STALLED = 3_000;
const OTHER = 600;

function description(to: string, id: number, sdp: string): Record<string, unknown> {
  return { type: 'rtc', id, to, call: 'c1', signal: { kind: 'description', description: { type: 'offer', sdp } } };
}

/** An SDP that says whose it is and which one, padded to ~7 KB with that sender's letter. */
const sdpOf = (sender: string, n: number): string => `v=0\r\no=${sender}-${n}\r\n${sender.repeat(7_000)}`;

async function sendAll(from: TestClient, to: string, sender: string, count: number): Promise<void> {
  const first = from.nextId;
  for (let n = 0; n < count; n++) from.send(description(to, from.nextId++, sdpOf(sender, n)));
  const last = await from.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f['id'] === first + count - 1, 20_000);
  expect(last.type).toBe('ack');
}

const sdps = (client: TestClient): string[] => client.all('rtc').map((f: Frame) => f['signal']['description']['sdp'] as string);

describe('bytes given back for reuse', () => {
  it('a client confirming frames it has not read yet gets every one intact', async () => {
    const t = await startServer({
      limits: { messagesPerSecond: 1_000_000, messageBurst: 1_000_000, maxBufferedBytes: 512 * MiB },
      resume: { maxBufferedFrames: 100_000, maxBufferedBytes: 512 * MiB },
    });
    const [x, y, p, q] = await Promise.all(['xavier', 'yara', 'paul', 'quinn'].map((user) => t.connect(user)));
    for (const client of [x!, y!, p!, q!]) await join(client, 'g');
    const [yCid, qCid] = await Promise.all([y!.welcome, q!.welcome]).then((w) => w.map((f) => f['cid'] as string));
    await y!.sync();
    const before = lastSeqOf(y!);

    const socket = (y!.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    await sendAll(x!, yCid!, 'x', STALLED);
    // Everything the server was sent for y, confirmed without reading a byte of it.
    y!.send({ rx: before + STALLED, type: 'ping', ts: 1 });
    await sendAll(p!, qCid!, 'p', OTHER);
    await expect.poll(() => q!.all('rtc').length, { timeout: 20_000 }).toBe(OTHER);

    socket.resume();
    await expect.poll(() => y!.all('rtc').length, { timeout: 20_000 }).toBe(STALLED);
    const received = sdps(y!);
    const wrong = received.findIndex((sdp, n) => sdp !== sdpOf('x', n));
    expect(wrong).toBe(-1);
    expect(sdps(q!).every((sdp, n) => sdp === sdpOf('p', n))).toBe(true);
  }, 60_000);
});
