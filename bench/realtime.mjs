#!/usr/bin/env node
/**
 * Realtime benchmarks: Switchboard next to raw `ws` (the floor), Socket.IO and the PeerJS
 * server, measured with the same harness in one run.
 *
 *   npx tsc -b packages/protocol packages/server packages/client
 *   node bench/realtime.mjs            # 5 runs; writes two sections of docs/benchmarks.md
 *   node bench/realtime.mjs --quick    # 3 runs, smaller N; prints only (add --write to update the docs)
 *
 * Options: --runs R, --only switchboard,sdk,ws,socketio,peerjs, --scenarios memory,fanout,dm,signal,light-signal,light-dm,
 * --light-pairs P, --light-rate R (round trips/s over all pairs), --light-round-trips K,
 * --window W (in-flight broadcast messages, default 16), --json FILE (raw results),
 * --memory-clients C, --dm-round-trips K, --signal-hops K, --warmup K, --single-messages K (sizes),
 * --cpu-prof (V8 CPU profiles of every server child, peers included, into a temp directory; read them
 * with `node bench/lib/cpuprofile.mjs FILE [--inclusive] [--filter packages/]`),
 * --timeout-s S (overall limit), --no-write, --from-json FILE [--write] (re-render a saved run),
 * --resume-window MS (Switchboard's resume.windowMs; 0: resume off), --ack-delay MS (its rtc.ackDelayMs),
 * --pin (Linux, 2+ cores: each server child on the last core, this process on the others, with `taskset`, so a
 * server's event loop and GC wait for its own work only, not for the clients'; off by default, as the tables were measured).
 *
 * How it works. Every (scenario, system, run) gets a fresh server in its own child process
 * (`node --expose-gc bench/realtime.mjs --serve <kind>`), so memory deltas belong to one server and a
 * scenario never sees the previous one's cleanup. All clients live in this (parent) process, so one
 * monotonic clock (performance.now) timestamps sends and receipts. Everything listens on and
 * connects to 127.0.0.1 only. Runs interleave the systems (rotating their order) so background load
 * hits them alike; the tables show the median over runs of each run's figure.
 *
 * Scenarios:
 *  - fanout: N clients in one group/room; one of them posts M ~200-byte messages to the group, at
 *    most W messages not yet delivered to all N at once (flow control: nothing may be dropped; every
 *    delivery is counted and checked). Deliveries/s over the measured phase, latency = receipt time -
 *    the send time carried in the payload, and the server's CPU time per delivery (process.cpuUsage).
 *    Every system delivers to the sender too (Switchboard's rule; io.to(room) and our ws floor do too).
 *  - dm: A → B → A round trip of a ~200-byte message, one at a time.
 *  - memory: server heap+external and RSS growth per idle connection (after GC in the server child).
 *  - signal: a ~4 KB SDP offer A → B, then B's answer → A, one at a time; one-way relay latency per hop.
 *    Switchboard `rtc` description (inside an invited+accepted call, sent with an id as the SDK does),
 *    PeerJS OFFER/ANSWER over its websocket protocol, and the same bytes over the ws floor and Socket.IO.
 *  - light-signal / light-dm: P pairs bouncing a signal (or a ~200-byte DM) at a fixed total rate
 *    (bench/lib/realtime-light.mjs). dm, signal and both light scenarios also report the server's
 *    V8 heap bytes allocated per message and its event loop's longest stall (realtime-servers.mjs).
 *
 * Switchboard runs with its per-connection rate limit raised (the default 50 messages/s would cap one
 * sender at 50 posts/s); everything else is its default configuration (tls off, logLevel silent).
 * Bounded: fixed message counts, a stall timeout per phase, an overall timeout; the server children
 * exit when this process goes away (IPC disconnect) or after their own time limit.
 *
 * The code: this file parses the options, runs the (run × scenario × system) loop and dispatches
 * `--serve`; the rest is in bench/lib: realtime-systems.mjs (the systems compared, host, repo root),
 * realtime-servers.mjs (the server children and the parent's handle on them), realtime-clients.mjs
 * (one client adapter per system), realtime-scenarios.mjs (the measurements) and realtime-report.mjs
 * (tables, readings, docs/benchmarks.md).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { describeMachine, machineInfo } from './lib/env.mjs';
import { clientFactory } from './lib/realtime-clients.mjs';
import { scenarioLight } from './lib/realtime-light.mjs';
import { printReport, summaryLine, writeDocs } from './lib/realtime-report.mjs';
import { scenarioDm, scenarioFanout, scenarioMemory, scenarioSignal } from './lib/realtime-scenarios.mjs';
import { killServerChildren, serve, ServerChild } from './lib/realtime-servers.mjs';
import { ROOT, SYSTEMS } from './lib/realtime-systems.mjs';

// Server children are this script run with `--serve <kind>` (see the end of the file).
const SELF = fileURLToPath(import.meta.url);

// ====================================================================== options

function parseArgs(argv) {
  const has = (flag) => argv.includes(flag);
  const value = (flag) => {
    const i = argv.indexOf(flag);
    return i === -1 ? undefined : argv[i + 1];
  };
  const quick = has('--quick');
  const list = (flag, all) =>
    value(flag)
      ? value(flag)
          .split(',')
          .map((s) => s.trim())
      : all;
  const opts = {
    quick,
    runs: Number(value('--runs') ?? (quick ? 3 : 5)),
    systems: list('--only', ['switchboard', 'sdk', 'ws', 'socketio', 'peerjs']),
    scenarios: list('--scenarios', ['memory', 'fanout', 'dm', 'signal', 'light-signal', 'light-dm']),
    window: Number(value('--window') ?? 16),
    // [N clients, M messages]: 200k deliveries per measured phase at full size.
    fanout: quick
      ? [
          [50, 400],
          [200, 100],
        ]
      : [
          [100, 2000],
          [500, 400],
        ],
    singleMessages: Number(value('--single-messages') ?? (quick ? 50 : 100)),
    memoryClients: Number(value('--memory-clients') ?? (quick ? 500 : 2000)),
    dmRoundTrips: Number(value('--dm-round-trips') ?? (quick ? 300 : 5000)),
    signalHops: Number(value('--signal-hops') ?? (quick ? 200 : 5000)),
    // Round trips / hops before the measured ones: short phases otherwise measure JIT compilation
    // (process.cpuUsage counts the compiler threads), which favours servers with less code.
    warmup: Number(value('--warmup') ?? (quick ? 100 : 3000)),
    // Light load: P pairs, R round trips/s over all of them, K measured round trips.
    lightPairs: Number(value('--light-pairs') ?? (quick ? 100 : 500)),
    lightRate: Number(value('--light-rate') ?? (quick ? 1000 : 2500)),
    lightRoundTrips: Number(value('--light-round-trips') ?? (quick ? 4000 : 20000)),
    timeoutMs: Number(value('--timeout-s') ?? (quick ? 420 : 1800)) * 1000,
    json: value('--json'),
    cpuProf: has('--cpu-prof'),
    resumeWindow: value('--resume-window'),
    ackDelay: value('--ack-delay'),
    pin: has('--pin'),
    write: has('--write') || (!quick && !has('--no-write')),
  };
  if (!(opts.runs >= 1)) throw new Error('--runs must be ≥ 1');
  // Switchboard's resume.windowMs in the server children (its default otherwise).
  if (opts.resumeWindow !== undefined) process.env.BENCH_RESUME_WINDOW_MS = String(Number(opts.resumeWindow));
  if (opts.ackDelay !== undefined) process.env.BENCH_ACK_DELAY_MS = String(Number(opts.ackDelay));
  if (opts.pin) pinCores();
  return opts;
}

/** --pin: this process (the clients) on every core but the last, the server children (BENCH_SERVER_CPU) on the last. */
function pinCores() {
  const cores = os.availableParallelism();
  if (process.platform !== 'linux' || cores < 2) throw new Error('--pin needs Linux and at least 2 cores');
  execFileSync('taskset', ['-a', '-p', '-c', `0-${cores - 2}`, String(process.pid)], { stdio: 'ignore' });
  process.env.BENCH_SERVER_CPU = String(cores - 1);
}

// ====================================================================== main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const fromJson = process.argv.includes('--from-json') ? process.argv[process.argv.indexOf('--from-json') + 1] : null;
  if (fromJson) {
    // Re-render the report (and the docs sections) from a previous run's --json output.
    const saved = JSON.parse(readFileSync(fromJson, 'utf8'));
    const report = printReport(saved.results, saved.opts, saved.machine, { failures: saved.failures });
    if (process.argv.includes('--write')) writeDocs(report);
    return;
  }
  const started = performance.now();
  const machine = machineInfo({ cwd: ROOT, paths: ['packages/protocol/src', 'packages/server/src', 'packages/client/src'] });
  const secret = randomBytes(24).toString('base64url');
  const cpuProfDir = opts.cpuProf ? mkdtempSync(path.join(os.tmpdir(), 'switchboard-bench-profiles-')) : null;

  /** results[scenarioKey][system] = [run results] */
  const results = {};
  const failures = [];
  const deadline = setTimeout(() => {
    console.error(`\nOverall timeout (${opts.timeoutMs / 1000} s) reached: stopping.`);
    killServerChildren();
    printReport(results, opts, machine, { partial: true, failures });
    process.exit(2);
  }, opts.timeoutMs);
  deadline.unref();
  process.on('SIGINT', () => {
    killServerChildren();
    process.exit(130);
  });

  const { signToken } = await import('@switchboard/server');
  const tokenCount = Math.max(opts.memoryClients + 10, 2 * opts.lightPairs, ...opts.fanout.map(([n]) => n));
  const tokens = [];
  for (let i = 0; i < tokenCount; i++) tokens.push(await signToken([secret], { user_id: `bench-${i}`, ttlSeconds: 4 * 3600 }));

  const systems = opts.systems.filter((s) => SYSTEMS[s]);
  const scenarioKeys = [];
  for (const scenario of opts.scenarios) {
    if (scenario === 'fanout') for (const [n, m] of opts.fanout) scenarioKeys.push({ scenario, key: `fanout-${n}`, n, m });
    else scenarioKeys.push({ scenario, key: scenario });
  }
  console.error(`${describeMachine(machine)}; load average ${machine.loadAverage.join(' ')}`);
  console.error(`runs: ${opts.runs}, systems: ${systems.join(', ')}, scenarios: ${scenarioKeys.map((s) => s.key).join(', ')}`);

  for (let run = 0; run < opts.runs; run++) {
    for (const sk of scenarioKeys) {
      const order = systems.filter((s) => SYSTEMS[s].scenarios.includes(sk.scenario));
      const rotated = order.map((_, i) => order[(i + run) % order.length]);
      for (const system of rotated) {
        const label = `run ${run + 1}/${opts.runs} ${sk.key} ${system}`;
        const t0 = performance.now();
        let child;
        try {
          child = await ServerChild.start(SYSTEMS[system].server, { script: SELF, secret, cpuProfDir });
          const connect = await clientFactory(system, child.info, { tokens });
          let value;
          if (sk.scenario === 'fanout') value = await scenarioFanout(system, child, connect, opts, sk.n, sk.m);
          else if (sk.scenario === 'dm') value = await scenarioDm(system, child, connect, opts);
          else if (sk.scenario === 'memory') value = await scenarioMemory(system, child, connect, opts);
          else if (sk.scenario === 'signal') value = await scenarioSignal(system, child, connect, opts);
          else if (sk.scenario === 'light-signal') value = await scenarioLight(system, child, connect, opts, 'signal');
          else if (sk.scenario === 'light-dm') value = await scenarioLight(system, child, connect, opts, 'dm');
          ((results[sk.key] ??= {})[system] ??= []).push(value);
          console.error(`${label}: ${summaryLine(value)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
        } catch (err) {
          failures.push({ run, key: sk.key, system, error: err.message });
          console.error(`${label}: FAILED ${err.message}`);
          child?.kill();
        }
      }
    }
  }
  clearTimeout(deadline);
  machine.loadAverageEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  machine.seconds = Math.round((performance.now() - started) / 1000);
  const report = printReport(results, opts, machine, { failures });
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ machine, opts, results, failures }, null, 2));
  if (opts.write) writeDocs(report);
  if (cpuProfDir) console.error(`CPU profiles in ${cpuProfDir} (node bench/lib/cpuprofile.mjs FILE --filter packages/)`);
  process.exit(failures.length > 0 ? 1 : 0);
}

// ====================================================================== entry

if (process.argv[2] === '--serve') {
  await serve(process.argv[3]);
} else {
  await main();
}
