/**
 * Load: calls as a CPU weapon. PAIRS pairs of clients (fixtures/calls-attacker.mjs, in its own
 * process) try to build as many calls as they can at default limits, then send call signals at
 * RATE frames/s each (under the 50/s limit), fresh invites included. Meanwhile an honest client
 * pings. Loopback only, bounded (about 15 s a run, at most three runs), prints its figures.
 * Without the active-call cap the pairs build calls without bound (and every invite used to scan
 * them all); with it, creation beyond the caps gets TOO_MANY_CALLS, each connection holds at
 * most maxRingingCalls + maxActiveCalls calls, and the honest ping stays fast.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import { createMemoryStore } from '../src/index.js';
import { startServer, useCleanup, type TestClient } from './helpers.js';

useCleanup();

const PAIRS = 10;
const RATE = 40;
const BUILD_MS = 3_000;
const FLOOD_MS = 8_000;
const BASELINE_MS = 1_000;
/** Runs at most (see the test): about 14 s each. */
const RUNS = 3;
const PING_EVERY_MS = 20;
const ATTACKER = fileURLToPath(new URL('./fixtures/calls-attacker.mjs', import.meta.url));

interface AttackStats {
  event: 'built' | 'done';
  cids?: string[];
  invites: number;
  accepts: number;
  candidates: number;
  acked: Record<string, number>;
  codes: Record<string, number>;
  closes: number;
}

/** Pings at a fixed rate (each ping independent of the last reply); stop() resolves the RTTs in ms. */
function pinger(client: TestClient): { stop(): Promise<{ rtts: number[]; lost: number }> } {
  const sent = new Map<number, number>();
  const rtts: number[] = [];
  const onMessage = (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as { type: string; ts?: number };
    if (frame.type !== 'pong' || typeof frame.ts !== 'number' || !sent.has(frame.ts)) return;
    rtts.push(performance.now() - sent.get(frame.ts)!);
    sent.delete(frame.ts);
  };
  client.ws.on('message', onMessage);
  let seq = 0;
  const timer = setInterval(() => {
    sent.set(++seq, performance.now());
    client.send({ type: 'ping', ts: seq });
  }, PING_EVERY_MS);
  return {
    async stop() {
      clearInterval(timer);
      await client.sync(); // every pong already written has arrived
      client.ws.off('message', onMessage);
      return { rtts, lost: sent.size };
    },
  };
}

function summary(rtts: number[]): { n: number; p50: number; p99: number; max: number } {
  const sorted = [...rtts].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  const round = (x: number) => Math.round(x * 100) / 100;
  return { n: sorted.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? NaN) };
}

/** One run of the attack against a fresh server: its figures, printed, and the checks that do not depend on timing. */
async function attack(run: number) {
  const store = createMemoryStore();
  const t = await startServer({}, { store });
  const { maxRingingCalls, maxActiveCalls } = t.server.config.limits;
  const honest = await t.connect('honest');

  let ping = pinger(honest);
  await new Promise((resolve) => setTimeout(resolve, BASELINE_MS));
  const baseline = await ping.stop();

  const tokens = await Promise.all(Array.from({ length: PAIRS * 2 }, (_, i) => t.token(`caller-${i}`)));
  const child = spawn(process.execPath, [ATTACKER, t.wsUrl, tokens.join(','), String(BUILD_MS), String(FLOOD_MS), String(RATE)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  const events = new Map<string, (stats: AttackStats) => void>();
  const next = (event: AttackStats['event']) => new Promise<AttackStats>((resolve) => events.set(event, resolve));
  const built = next('built');
  const done = next('done');
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
      const stats = JSON.parse(buffer.slice(0, at)) as AttackStats;
      buffer = buffer.slice(at + 1);
      events.get(stats.event)?.(stats);
    }
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`attacker exited (${code}) early`))));
  exited.catch(() => undefined);

  const build = await Promise.race([built, exited]);
  // The flood starts now: measure the honest client and this process's CPU (server + honest client) through it.
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  ping = pinger(honest);
  const counts = await Promise.all(build.cids!.map((cid) => store.callCounts(cid)));
  const flood = await Promise.race([done, exited]);
  const underAttack = await ping.stop();
  const cpu = process.cpuUsage(cpuBefore);
  const cpuPercent = Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore)) * 100);

  const before = summary(baseline.rtts);
  const during = summary(underAttack.rtts);
  console.log(
    `calls-load run ${run}: ${PAIRS} pairs, limits ringing ${maxRingingCalls} / active ${maxActiveCalls} per connection, load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores\n` +
      `  build ${BUILD_MS / 1000} s at ${RATE}/s: ${build.invites} invites, acked ${JSON.stringify(build.acked)}, ` +
      `refused ${JSON.stringify(build.codes)}; held per connection: ringing ≤ ${Math.max(...counts.map((c) => c.ringing))}, ` +
      `active ≤ ${Math.max(...counts.map((c) => c.active))}\n` +
      `  flood ${FLOOD_MS / 1000} s at ${RATE}/s per connection: ${flood.invites} invites, ${flood.candidates} candidates, ` +
      `acked ${JSON.stringify(flood.acked)}, refused ${JSON.stringify(flood.codes)}, attacker sockets closed by the server ${flood.closes}\n` +
      `  honest ping (ms): idle p50 ${before.p50} p99 ${before.p99} max ${before.max} (${before.n}); ` +
      `under attack p50 ${during.p50} p99 ${during.p99} max ${during.max} (${during.n}), lost ${underAttack.lost}; ` +
      `server process CPU ${cpuPercent}%`,
  );

  const refusedAtBuild = Object.entries(build.codes)
    .filter(([k]) => k.endsWith(':TOO_MANY_CALLS'))
    .reduce((n, [, v]) => n + v, 0);
  expect(refusedAtBuild).toBeGreaterThan(0);
  expect(build.acked['accept'] ?? 0).toBeLessThanOrEqual(PAIRS * maxActiveCalls);
  for (const c of counts) {
    expect(c.ringing).toBeLessThanOrEqual(maxRingingCalls);
    expect(c.active).toBeLessThanOrEqual(maxActiveCalls);
  }
  expect(flood.codes['invite:TOO_MANY_CALLS'] ?? 0).toBeGreaterThan(0);
  expect(flood.acked['candidate'] ?? 0).toBeGreaterThan(0);
  expect(flood.closes).toBe(0);
  expect(underAttack.lost).toBe(0);
  expect(honest.ws.readyState).toBe(WebSocket.OPEN);
  child.kill('SIGKILL');
  return { during, cpuPercent };
}

describe('calls load', () => {
  it(`${PAIRS} pairs build calls, then ${RATE} call signals/s each: capped with TOO_MANY_CALLS, honest ping p99 < 50 ms`, async () => {
    let result = await attack(1);
    // Slow pings while this process was mostly idle mean other processes had the cores (tests run
    // beside other work): measure again. A server busy with the flood uses its core and fails.
    for (let run = 2; run <= RUNS && result.during.p99 >= 50 && result.cpuPercent < 50; run++) result = await attack(run);
    expect(result.during.n).toBeGreaterThan(FLOOD_MS / PING_EVERY_MS / 2);
    expect(result.during.p99).toBeLessThan(50);
  }, 60_000);
});
