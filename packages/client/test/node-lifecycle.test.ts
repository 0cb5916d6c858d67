/**
 * When the Node SDK releases node-datachannel's threads (src/node/lifecycle.ts): after the last
 * peer connection closed and every data channel of theirs reported `close` (its native close
 * callback processed: cleanup() while one is on its way can deadlock node-datachannel 0.33.4),
 * or once the wait for them ran out. node-datachannel is replaced by a counter here; the real
 * release is exercised by every Node call suite and node-exit.test.ts.
 */
import { afterEach, beforeEach, expect, it, vi } from 'vitest';

const native = vi.hoisted(() => ({ cleanups: 0 }));
vi.mock('node-datachannel', () => ({ cleanup: () => void (native.cleanups += 1) }));

const { peerClosed, peerOpened, trackChannel } = await import('../src/node/lifecycle.js');

beforeEach(() => {
  vi.useFakeTimers();
  native.cleanups = 0;
});
afterEach(() => vi.useRealTimers());

const channel = () => new EventTarget();

it("waits for the closed connections' data channels to report close, then releases once", async () => {
  peerOpened(true);
  const [a, b] = [channel(), channel()];
  trackChannel(a);
  trackChannel(b);
  peerClosed();
  await vi.advanceTimersByTimeAsync(1_000);
  expect(native.cleanups).toBe(0);
  a.dispatchEvent(new Event('close'));
  await vi.advanceTimersByTimeAsync(1_000);
  expect(native.cleanups).toBe(0);
  b.dispatchEvent(new Event('close'));
  await vi.advanceTimersByTimeAsync(150);
  expect(native.cleanups).toBe(1);
});

it('releases after the wait runs out when a channel never reports close', async () => {
  peerOpened(true);
  trackChannel(channel());
  peerClosed();
  await vi.advanceTimersByTimeAsync(4_500);
  expect(native.cleanups).toBe(0);
  await vi.advanceTimersByTimeAsync(1_000);
  expect(native.cleanups).toBe(1);
});

it('a peer connection opened meanwhile keeps the threads', async () => {
  peerOpened(true);
  peerClosed();
  peerOpened(true);
  await vi.advanceTimersByTimeAsync(10_000);
  expect(native.cleanups).toBe(0);
  peerClosed();
  await vi.advanceTimersByTimeAsync(150);
  expect(native.cleanups).toBe(1);
});
