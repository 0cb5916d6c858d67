import { describe, expect, it } from 'vitest';
import { Backoff, backoffCeiling, backoffDelay, backoffPolicy, DEFAULT_BACKOFF } from '../src/transport/backoff.js';

describe('backoff (exponential, full jitter)', () => {
  it('ceiling doubles from 500 ms and caps at 30 s', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8, 20, 1000].map((n) => backoffCeiling(n, DEFAULT_BACKOFF));
    expect(ceilings).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
  });

  it('delay is uniform in [0, ceiling): random 0 → 0, random → 1 approaches the ceiling', () => {
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.5)).toBe(1000);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.999999)).toBe(1999);
  });

  it('real jitter: delays stay under the growing ceiling and vary', () => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const samples = Array.from({ length: 200 }, () => backoffDelay(attempt, DEFAULT_BACKOFF));
      const ceiling = backoffCeiling(attempt, DEFAULT_BACKOFF);
      expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...samples)).toBeLessThan(ceiling);
      expect(new Set(samples).size).toBeGreaterThan(50);
    }
    const mean = (attempt: number) => Array.from({ length: 2000 }, () => backoffDelay(attempt, DEFAULT_BACKOFF)).reduce((a, b) => a + b, 0) / 2000;
    expect(mean(2)).toBeGreaterThan(mean(1));
    expect(mean(5)).toBeGreaterThan(mean(3));
  });

  it('Backoff.next(maxDelayMs) lowers the ceiling for that attempt only', () => {
    const backoff = new Backoff({ maxAttempts: Infinity, baseDelayMs: 500, maxDelayMs: 30_000 }, () => 0.999);
    for (let i = 0; i < 6; i++) backoff.next(2_000);
    expect(backoff.next(2_000)!.delayMs).toBe(1998);
    expect(backoff.next()!.delayMs).toBe(29_970);
  });

  it('Backoff counts attempts, stops at maxAttempts, resets', () => {
    const backoff = new Backoff({ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 }, () => 0.5);
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([
      { attempt: 1, delayMs: 50 },
      { attempt: 2, delayMs: 100 },
      { attempt: 3, delayMs: 200 },
      null,
    ]);
    backoff.reset();
    expect(backoff.next()).toEqual({ attempt: 1, delayMs: 50 });
  });

  it('options.reconnect: defaults unlimited, false disables, bad values fall back', () => {
    expect(backoffPolicy(undefined)).toEqual({ maxAttempts: Infinity, baseDelayMs: 500, maxDelayMs: 30_000 });
    expect(backoffPolicy(false).maxAttempts).toBe(0);
    expect(backoffPolicy({ maxAttempts: 5, baseDelayMs: 10 })).toEqual({ maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 30_000 });
    expect(backoffPolicy({ maxAttempts: -1, baseDelayMs: Number.NaN })).toEqual(DEFAULT_BACKOFF);
  });
});
