/**
 * Replies in request order, accepted requests answered before an abuse close, rate limiting that
 * does not end honest sessions, bounded nesting, and slow consumers that see 4002.
 */
import { Writable } from 'node:stream';
import { MAX_NESTING_DEPTH } from '@switchboard/protocol';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { join, startServer, type Frame, type TestClient, useCleanup } from './helpers.js';

useCleanup();

type RawSocket = { cork(): void; uncork(): void; pause(): void; resume(): void };
const rawSocket = (client: TestClient) => (client.ws as unknown as { _socket: RawSocket })._socket;

/** Sends every frame in one TCP write, so the server reads them in one chunk. */
function sendInOneWrite(client: TestClient, frames: unknown[]): void {
  const socket = rawSocket(client);
  socket.cork();
  for (const frame of frames) client.send(frame);
  socket.uncork();
}

const replies = (client: TestClient): Frame[] => client.frames.filter((f) => f.type === 'ack' || f.type === 'error');
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** A logger whose error-level lines (pino level ≥ 50) the test can inspect. */
function capturingLogger() {
  const errors: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line && (JSON.parse(line) as { level: number }).level >= 50) errors.push(line);
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), errors };
}

describe('reply order', () => {
  it('answers frames refused before dispatch behind the replies to the frames before them', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    sendInOneWrite(a, [
      { type: 'join', id: 1, group: 'room' },
      '{not json',
      { type: 'teleport', id: 3 },
      { type: 'list_users', id: 4 },
      { type: 'join', id: 5, group: 7 },
    ]);
    await a.waitFor((f) => f.type === 'error' && f['id'] === 5);
    expect(replies(a).map((f) => [f.type, f['id']])).toEqual([
      ['ack', 1],
      ['error', null],
      ['error', 3],
      ['ack', 4],
      ['error', 5],
    ]);
  });

  it('keeps RATE_LIMITED in request order too', async () => {
    const t = await startServer({ limits: { messagesPerSecond: 1, messageBurst: 2 } });
    const a = await t.connect('alice');
    sendInOneWrite(
      a,
      [1, 2, 3, 4].map((id) => ({ type: 'join', id, group: `g${id}` })),
    );
    await a.waitFor((f) => f['id'] === 4);
    expect(replies(a).map((f) => [f['id'], f['code'] ?? 'ack'])).toEqual([
      [1, 'ack'],
      [2, 'ack'],
      [3, 'RATE_LIMITED'],
      [4, 'RATE_LIMITED'],
    ]);
  });

  it('answers every accepted request before closing a connection for abuse (4500)', async () => {
    const t = await startServer({ limits: { maxViolations: 3 } });
    const a = await t.connect('alice');
    sendInOneWrite(a, [
      { type: 'join', id: 1, group: 'room' },
      { type: 'post', id: 2, to: 'room', message: 'hi' },
      { type: 'list_users', id: 3 },
      ...Array.from({ length: 10 }, () => 'junk'),
      { type: 'list_users', id: 99 }, // after the fourth violation: ignored
    ]);
    expect((await a.closed).code).toBe(4500);
    expect(replies(a).map((f) => [f.type, f['id']])).toEqual([
      ['ack', 1],
      ['ack', 2],
      ['ack', 3],
      ['error', null],
      ['error', null],
      ['error', null],
      ['error', null],
    ]);
  });
});

describe('rate limit', () => {
  it('rate-limited frames are not violations: an honest overshoot keeps the connection', async () => {
    const t = await startServer({ limits: { messagesPerSecond: 20, messageBurst: 2, maxViolations: 2 } });
    const a = await t.connect('alice');
    sendInOneWrite(
      a,
      Array.from({ length: 10 }, (_, i) => ({ type: 'join', id: i + 1, group: 'room' })),
    );
    await a.waitFor((f) => f['id'] === 10);
    expect(a.all((f) => f['code'] === 'RATE_LIMITED').length).toBeGreaterThanOrEqual(7);
    // Once the bucket refilled (50 ms a token), requests go through again on the same connection.
    await vi.waitFor(async () => expect((await a.request({ type: 'list_users' })).type).toBe('ack'), { timeout: 3000, interval: 100 });
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('a flood (more than 5 × messageBurst rate-limited frames in the window) closes with 4500', async () => {
    const t = await startServer({ limits: { messagesPerSecond: 1, messageBurst: 2 } });
    const a = await t.connect('alice');
    sendInOneWrite(
      a,
      Array.from({ length: 30 }, (_, i) => ({ type: 'join', id: i + 1, group: 'room' })),
    );
    expect((await a.closed).code).toBe(4500);
    expect(a.all('ack')).toHaveLength(2);
    expect(a.all((f) => f['code'] === 'RATE_LIMITED')).toHaveLength(11);
  });
});

describe('nesting depth', () => {
  it(`refuses frames nested deeper than ${MAX_NESTING_DEPTH} levels with INVALID_PARAMETER, logs no error, counts a violation`, async () => {
    const { logger, errors } = capturingLogger();
    const t = await startServer({ limits: { maxViolations: 2 } }, { logger });
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    await join(a, 'room');
    await join(b, 'room');
    // The deepest accepted message (the frame is level 1): delivered intact.
    const deepest = JSON.parse(nested(MAX_NESTING_DEPTH - 1)) as unknown;
    expect((await a.request({ type: 'post', to: 'room', message: deepest })).type).toBe('ack');
    expect((await b.waitFor('message'))['message']).toEqual(deepest);

    const attack = `{"type":"post","id":7,"to":"room","message":${nested(5000)}}`;
    expect(attack.length).toBeGreaterThan(10_000);
    a.send(attack);
    expect(await a.waitFor('error')).toMatchObject({ id: 7, code: 'INVALID_PARAMETER', message: expect.stringContaining(`${MAX_NESTING_DEPTH} levels`) });
    a.send(`{"type":"post","id":8,"to":"room","message":${nested(MAX_NESTING_DEPTH)}}`);
    expect(await a.waitFor('error')).toMatchObject({ id: 8, code: 'INVALID_PARAMETER' });
    await a.sync();
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
    a.send(attack); // the third violation with maxViolations 2
    expect((await a.closed).code).toBe(4500);
    await b.sync();
    expect(b.all('message')).toHaveLength(1);
    expect(errors).toEqual([]);
  });
});

describe('slow consumers', () => {
  it('a client that pauses reading longer than the close grace, then resumes, sees 4002', async () => {
    // Resume off: with it a closing connection's frames are buffered for its resume and count as delivered.
    const t = await startServer({ limits: { maxBufferedBytes: 512 * 1024, messagesPerSecond: 10_000, messageBurst: 10_000 }, resume: { windowMs: 0 } });
    const slow = await t.connect('slow');
    const sender = await t.connect('sender');
    rawSocket(slow).pause();
    // Frames smaller than the limit: the kernel buffers fill first, then the server's own buffer
    // overflows, so the close frame has to wait behind a real backlog.
    const payload = 'z'.repeat(60 * 1024);
    let delivered = 1;
    let posts = 0;
    for (; posts < 5000 && delivered > 0; posts++) {
      const reply = await sender.request({ type: 'post', to: 'slow', message: payload }, 5000);
      delivered = reply.type === 'ack' ? reply.result.delivered : 0;
    }
    expect(delivered).toBe(0); // the server cut it off
    expect(posts).toBeGreaterThan(10);
    console.log(`slow consumer cut after ${posts} posts of 60 KiB`);
    // Stalled longer than the 5 s close-handshake grace: the close frame must still be waiting.
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    rawSocket(slow).resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(4002);
    expect(slow.frames.length).toBeGreaterThan(0);
  }, 20_000);
});
