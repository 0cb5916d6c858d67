/** The chaos run's figures: delivery against the acks, duplicates, order, resumes and replay timings. */
import { expect } from 'vitest';
import type { ChaosResult } from './resume-chaos-harness.js';

/** CHAOS_SECONDS (default 60, 5…60) and CHAOS_CLIENTS (default 200, 20…200): bounded whatever the environment says. */
export const CHAOS_SECONDS = Math.min(60, Math.max(5, Number(process.env['CHAOS_SECONDS'] ?? 60) || 60));
export const CHAOS_CLIENTS = Math.min(200, Math.max(20, Number(process.env['CHAOS_CLIENTS'] ?? 200) || 200));

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  return s[lo]! + (s[Math.ceil(rank)]! - s[lo]!) * (rank - lo);
}

export async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export function timedOut<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`chaos: ${label} did not end within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface ChaosFigures {
  clients: number;
  posts: number;
  acked: number;
  failedPosts: number;
  /** Acked messages × members of the sender's group (the sender included: it gets its own posts too). */
  expected: number;
  delivered: number;
  missing: number;
  duplicates: number;
  outOfOrder: number;
  /** Messages delivered that were never acked (a post that failed may still have run). */
  unackedDelivered: number;
  wireDuplicates: number;
  kills: { server: number; client: number };
  resumes: number;
  movedResumes: number;
  notResumed: number;
  cidsChanged: number;
  replayMs: { n: number; p50: number; p99: number };
  outageMs: { n: number; p50: number; p99: number };
  replayedDelayMs: { n: number; p50: number; p99: number };
  liveDelayMs: { n: number; p50: number; p99: number };
  deliveryPercent: number;
}

const dist = (values: number[]) => ({ n: values.length, p50: percentile(values, 50), p99: percentile(values, 99) });

export function figures(result: ChaosResult): ChaosFigures {
  const { clients } = result;
  let expected = 0;
  let delivered = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let unackedDelivered = 0;
  for (const r of clients) {
    for (const s of clients) {
      if (s.group !== r.group) continue;
      const got = r.received.get(s.index) ?? [];
      const seen = new Set<number>();
      let last = 0;
      for (const n of got) {
        if (seen.has(n)) duplicates += 1;
        else if (n < last) outOfOrder += 1;
        seen.add(n);
        last = Math.max(last, n);
      }
      const acked = new Set(s.acked);
      expected += acked.size;
      for (const n of seen) {
        if (acked.has(n)) delivered += 1;
        else unackedDelivered += 1;
      }
    }
  }
  const outcomes = clients.flatMap((c) => c.outcomes);
  return {
    clients: clients.length,
    posts: clients.reduce((sum, c) => sum + c.posted, 0),
    acked: clients.reduce((sum, c) => sum + c.acked.length, 0),
    failedPosts: clients.reduce((sum, c) => sum + c.failed.length, 0),
    expected,
    delivered,
    missing: expected - delivered,
    duplicates,
    outOfOrder,
    unackedDelivered,
    wireDuplicates: clients.reduce((sum, c) => sum + c.wireDuplicates, 0),
    kills: result.kills,
    resumes: outcomes.filter((e) => e.resumed && e.cid === e.previousCid).length,
    movedResumes: clients.reduce((sum, c) => sum + c.movedResumes, 0),
    notResumed: outcomes.filter((e) => !e.resumed || e.cid !== e.previousCid).length,
    cidsChanged: clients.filter((c) => c.sb.cid !== c.cid).length,
    replayMs: dist(clients.flatMap((c) => c.replayMs)),
    outageMs: dist(clients.flatMap((c) => c.outageMs)),
    replayedDelayMs: dist(clients.flatMap((c) => c.replayedDelay)),
    liveDelayMs: dist(clients.flatMap((c) => c.liveDelay)),
    deliveryPercent: expected === 0 ? NaN : (delivered / expected) * 100,
  };
}

const ms = (d: { n: number; p50: number; p99: number }) => `p50 ${d.p50.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms (n=${d.n})`;

export function report(label: string, f: ChaosFigures, result: ChaosResult): string {
  return [
    `resume chaos (${label}): ${f.clients} clients, ${result.seconds.chaos.toFixed(1)} s of kills, settled in ${result.seconds.settle.toFixed(1)} s`,
    `  posts ${f.posts}, acked ${f.acked}, failed ${f.failedPosts}; deliveries ${f.delivered}/${f.expected} = ${f.deliveryPercent.toFixed(3)} %`,
    `  duplicates ${f.duplicates}, out of order ${f.outOfOrder}, unacked but delivered ${f.unackedDelivered}, frames seen twice on the wire (dropped by the SDK) ${f.wireDuplicates}`,
    `  kills ${f.kills.server + f.kills.client} (server-side ${f.kills.server}, client-side ${f.kills.client}); resumed ${f.resumes} (on another node ${f.movedResumes}), not resumed ${f.notResumed}, cids changed ${f.cidsChanged}`,
    `  replay latency (resume socket opened → last replayed frame in): ${ms(f.replayMs)}`,
    `  kill → resumed welcome (includes the SDK's reconnect backoff): ${ms(f.outageMs)}`,
    `  post → delivery, messages that came in a replay: ${ms(f.replayedDelayMs)}; live: ${ms(f.liveDelayMs)}`,
  ].join('\n');
}

/** Prints the figures and checks the promise: nothing lost, nothing twice, nothing reordered, every cid kept. */
export function checkChaos(label: string, result: ChaosResult, seconds: number): ChaosFigures {
  const f = figures(result);
  console.log(report(label, f, result));
  // The first kill comes 5–15 s in: past 15 s, every client has lost its socket at least once.
  if (seconds >= 15) expect(result.clients.filter((c) => c.kills === 0).map((c) => c.user_id)).toEqual([]);
  expect(f.kills.server).toBeGreaterThan(0);
  expect(f.kills.client).toBeGreaterThan(0);
  expect(f.notResumed).toBe(0);
  expect(f.resumes).toBe(f.kills.server + f.kills.client);
  expect(f.cidsChanged).toBe(0);
  expect(f.failedPosts).toBe(0);
  expect(f.missing).toBe(0);
  expect(f.duplicates).toBe(0);
  expect(f.outOfOrder).toBe(0);
  expect(f.replayedDelayMs.n).toBeGreaterThan(0); // some messages did come in replays
  return f;
}
