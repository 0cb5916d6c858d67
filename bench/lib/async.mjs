/** Timing and concurrency helpers for benchmarks: bounded waits, a deadline, a limited map. */

export class TimeoutError extends Error {}

/** Rejects with TimeoutError after `ms` unless `promise` settles first; the timer never holds the process. */
export function withTimeout(promise, ms, label = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${label} did not finish within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `fn(item, index)` over `items` with at most `limit` at once; resolves with the results in order. */
export async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A deferred: { promise, resolve, reject }. */
export function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Yields to the event loop (lets queued I/O run) without a timer. */
export const tick = () => new Promise((resolve) => setImmediate(resolve));
