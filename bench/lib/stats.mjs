/**
 * Small statistics helpers shared by the benchmarks (bench/*.mjs). No dependencies.
 *
 * Percentiles use linear interpolation between closest ranks (the same rule as
 * numpy's default), on a sorted copy: callers keep their sample order.
 */

/** Numeric ascending sort of a copy (works for plain arrays and typed arrays). */
export function sorted(values) {
  const copy = Float64Array.from(values);
  copy.sort();
  return copy;
}

/** p in [0, 100] of an ascending-sorted array; NaN when empty. */
export function percentileOfSorted(sortedValues, p) {
  const n = sortedValues.length;
  if (n === 0) return NaN;
  if (n === 1) return sortedValues[0];
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sortedValues[lo] + (sortedValues[hi] - sortedValues[lo]) * (rank - lo);
}

export function percentile(values, p) {
  return percentileOfSorted(sorted(values), p);
}

export function median(values) {
  return percentile(values, 50);
}

export function mean(values) {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length === 0 ? NaN : sum / values.length;
}

/** Summary of one run's samples: n, min, mean, p50, p90, p99, max. */
export function summarize(values) {
  const s = sorted(values);
  return {
    n: s.length,
    min: s.length ? s[0] : NaN,
    mean: mean(s),
    p50: percentileOfSorted(s, 50),
    p90: percentileOfSorted(s, 90),
    p99: percentileOfSorted(s, 99),
    max: s.length ? s[s.length - 1] : NaN,
  };
}

/**
 * Combines several runs: for every numeric key present in the run objects, the median
 * across runs plus min and max (the spread). `runs` is an array of flat objects.
 * Returns `{ key: { median, min, max, n } }`.
 */
export function combineRuns(runs) {
  const keys = new Set();
  for (const run of runs) for (const [k, v] of Object.entries(run)) if (typeof v === 'number' && Number.isFinite(v)) keys.add(k);
  const out = {};
  for (const key of keys) {
    const values = runs.map((r) => r[key]).filter((v) => typeof v === 'number' && Number.isFinite(v));
    const s = sorted(values);
    out[key] = { median: percentileOfSorted(s, 50), min: s[0], max: s[s.length - 1], n: s.length };
  }
  return out;
}

/** A growable Float64 sample buffer (avoids boxing when collecting 10^5–10^6 latencies). */
export class Samples {
  constructor(capacity = 1024) {
    this.data = new Float64Array(Math.max(16, capacity));
    this.length = 0;
  }

  push(value) {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  values() {
    return this.data.subarray(0, this.length);
  }

  summary() {
    return summarize(this.values());
  }
}
