import { afterEach, describe, expect, it, vi } from 'vitest';
import { SwitchboardError } from '@switchboard/protocol';
import { Requests } from '../src/session/requests.js';
import { Pacer } from '../src/transport/pacer.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('Pacer', () => {
  it('allows 80 % of the burst at once, then 90 % of the rate, and wakes the caller when a token is back', async () => {
    vi.useFakeTimers();
    let now = 0;
    const wake = vi.fn();
    const pacer = new Pacer(wake, () => now);
    pacer.reset({ messagesPerSecond: 50, messageBurst: 100 });
    let sent = 0;
    while (pacer.take()) sent++;
    expect(sent).toBe(80);
    now += 1000; // 45 tokens
    sent = 0;
    while (pacer.take()) sent++;
    expect(sent).toBe(45);
    expect(wake).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000 / 45 + 1);
    expect(wake).toHaveBeenCalledTimes(1);
    pacer.stop();
  });

  it('keeps at least one token of burst; empty() makes the next frame wait a full token', () => {
    let now = 0;
    const pacer = new Pacer(
      () => undefined,
      () => now,
    );
    pacer.reset({ messagesPerSecond: 1, messageBurst: 1 });
    expect(pacer.take()).toBe(true);
    expect(pacer.take()).toBe(false);
    now += 2000;
    pacer.empty();
    expect(pacer.take()).toBe(false);
    now += 1200;
    expect(pacer.take()).toBe(true);
    pacer.stop();
  });
});

describe('Requests', () => {
  const post = (message: unknown) => ({ type: 'post' as const, to: 'room', message });

  it('a request waiting for its turn while connected does not time out; once sent, it has the full timeout', async () => {
    vi.useFakeTimers();
    const requests = new Requests(100, () => true);
    const outcome = requests.create(post(1)).catch((error: SwitchboardError) => error.code);
    vi.advanceTimersByTime(1000); // held back by the pacer for 10 timeouts
    const wire: string[] = [];
    requests.flush((text) => wire.push(text) > 0);
    expect(wire).toHaveLength(1);
    vi.advanceTimersByTime(99);
    requests.handleAck(1, { delivered: 1 });
    expect(await outcome).toEqual({ delivered: 1 });
  });

  it('times out while there is no connection, and when the answer does not come', async () => {
    vi.useFakeTimers();
    const requests = new Requests(100, () => false);
    const queued = requests.create(post(1)).catch((error: SwitchboardError) => error.code);
    vi.advanceTimersByTime(101);
    expect(await queued).toBe('TIMEOUT');
    const sent = requests.create(post(2)).catch((error: SwitchboardError) => error.code);
    requests.flush(() => true);
    vi.advanceTimersByTime(101);
    expect(await sent).toBe('TIMEOUT');
  });

  it('re-sync requests go first; a RATE_LIMITED request returns to its place, at most 3 times', async () => {
    const requests = new Requests(10_000, () => true);
    const ids = (texts: string[]) => texts.map((t) => (JSON.parse(t) as { id: number }).id);
    const all = [
      requests.create(post(1)),
      requests.create(post(2)),
      requests.create(post(3)),
      requests.create({ type: 'join', group: 'g' }, { priority: true }),
    ];
    let wire: string[] = [];
    requests.flush((text) => wire.push(text) > 0, true);
    expect(ids(wire)).toEqual([4]);
    wire = [];
    requests.flush((text) => wire.push(text) > 0);
    expect(ids(wire)).toEqual([1, 2, 3]);
    // 2 then 1 come back RATE_LIMITED: they go out again in id order.
    expect(requests.retry(2)).toBe(true);
    expect(requests.retry(1)).toBe(true);
    wire = [];
    requests.flush((text) => wire.push(text) > 0);
    expect(ids(wire)).toEqual([1, 2]);
    for (let i = 0; i < 2; i++) {
      expect(requests.retry(1)).toBe(true);
      requests.flush(() => true);
    }
    expect(requests.retry(1)).toBe(false);
    requests.handleError(1, 'RATE_LIMITED', 'slow down');
    for (const id of [2, 3, 4]) requests.handleAck(id, null);
    const settled = await Promise.allSettled(all);
    expect(settled.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
  });

  it('refuses locally what the server would refuse for nesting, and what cannot be encoded', async () => {
    const requests = new Requests(10_000, () => true);
    let deep: unknown = 0;
    for (let i = 0; i < 100; i++) deep = [deep];
    await expect(requests.create(post(deep))).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    await expect(requests.create(post(10n))).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    expect(requests.queued).toBe(0);
  });
});
