#!/usr/bin/env node
/**
 * Idle connections and the accept path: Switchboard next to the raw `ws` floor, the PeerJS server
 * and Socket.IO, measured with the same harness in one run (bench/lib/idle-scenario.mjs):
 * server RSS and heap+external per idle connection at C connections (default 19,000), server CPU
 * per accepted connection, accepted connections per second, and connect latency from nothing to
 * ready (Switchboard: guest token, socket, welcome).
 *
 *   npx tsc -b packages/protocol packages/server
 *   node bench/idle.mjs                       # 3 runs, C = 19,000; prints (add --write to update docs/benchmarks.md)
 *   node bench/idle.mjs --quick               # 1 run, C = 2,000
 *
 * Options: --runs R, --connections C, --parallel P (connections in progress at once, default 100),
 * --latency K (connect latency samples, default 200), --only switchboard,ws,peerjs,socketio,
 * --json FILE, --from-json FILE (re-render a saved run; --write updates the docs from it), --write, --cpu-prof (V8 CPU profiles of the Switchboard server children into a temporary directory).
 *
 * Every (system, run) gets a fresh server child (bench/lib/realtime-servers.mjs); all clients live in
 * this process, so each process stays under a 20,000 open-file limit at C = 19,000. Runs interleave
 * the systems (rotating their order). 127.0.0.1 only; bounded by counts and an overall timeout.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { describeMachine, machineInfo } from './lib/env.mjs';
import { printIdleReport, writeIdleDocs } from './lib/idle-report.mjs';
import { scenarioIdle } from './lib/idle-scenario.mjs';
import { clientFactory } from './lib/realtime-clients.mjs';
import { killServerChildren, serve, ServerChild } from './lib/realtime-servers.mjs';
import { ROOT } from './lib/realtime-systems.mjs';

const SELF = fileURLToPath(import.meta.url);

function parseArgs(argv) {
  const value = (flag) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const quick = argv.includes('--quick');
  const opts = {
    runs: Number(value('--runs') ?? (quick ? 1 : 3)),
    connections: Number(value('--connections') ?? (quick ? 2000 : 19_000)),
    parallel: Number(value('--parallel') ?? 100),
    latency: Number(value('--latency') ?? (quick ? 50 : 200)),
    warmup: Number(value('--warmup') ?? 50),
    systems: (value('--only') ?? 'switchboard,ws,peerjs,socketio').split(',').map((s) => s.trim()),
    json: value('--json'),
    write: argv.includes('--write'),
    timeoutMs: Number(value('--timeout-s') ?? 1800) * 1000,
    cpuProf: argv.includes('--cpu-prof'),
  };
  if (opts.connections > 19_500) throw new Error('--connections: at most 19,500 (each process stays under 20,000 open files)');
  return opts;
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv.includes('--from-json')) {
    // Re-renders a saved run (--json) and, with --write, its section of docs/benchmarks.md.
    const saved = JSON.parse(readFileSync(argv[argv.indexOf('--from-json') + 1], 'utf8'));
    const report = printIdleReport(saved.results, saved.opts, saved.machine);
    if (argv.includes('--write')) writeIdleDocs(report);
    return;
  }
  const opts = parseArgs(argv);
  const started = performance.now();
  const machine = machineInfo({ cwd: ROOT, paths: ['packages/protocol/src', 'packages/server/src'] });
  const secret = randomBytes(24).toString('base64url');
  const cpuProfDir = opts.cpuProf ? mkdtempSync(path.join(os.tmpdir(), 'switchboard-idle-profiles-')) : null;
  const results = {};
  const failures = [];
  const deadline = setTimeout(() => {
    console.error(`Overall timeout (${opts.timeoutMs / 1000} s): stopping.`);
    killServerChildren();
    printIdleReport(results, opts, machine);
    process.exit(2);
  }, opts.timeoutMs);
  deadline.unref();
  process.on('SIGINT', () => {
    killServerChildren();
    process.exit(130);
  });
  // The children live as long as a run at C = 19,000 takes.
  process.env.BENCH_CHILD_MAX_MS = String(Math.max(300_000, opts.connections * 30));
  const { signToken } = await import('@switchboard/server');
  const tokens = [];
  for (let i = 0; i < opts.connections; i++) tokens.push(await signToken([secret], { user_id: `idle-${i}`, ttlSeconds: 4 * 3600 }));
  console.error(`${describeMachine(machine)}; load average ${machine.loadAverage.join(' ')}`);
  for (let run = 0; run < opts.runs; run++) {
    const order = opts.systems.map((_, i) => opts.systems[(i + run) % opts.systems.length]);
    for (const system of order) {
      const t0 = performance.now();
      let child;
      try {
        child = await ServerChild.start(system, { script: SELF, secret, cpuProfDir });
        const connect = await clientFactory(system, child.info, { tokens });
        const value = await scenarioIdle(system, child, connect, opts);
        (results[system] ??= []).push(value);
        console.error(
          `run ${run + 1}/${opts.runs} ${system}: RSS ${value.rssKiBPerConn.toFixed(2)} KiB/conn, heap ${value.heapKiBPerConn.toFixed(2)} KiB/conn, ` +
            `accept ${value.acceptCpuUs.toFixed(0)} µs CPU, ${value.acceptPerSecond.toFixed(0)}/s, connect p50 ${value.connectP50Ms.toFixed(2)} ms ` +
            `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
        );
      } catch (err) {
        failures.push({ run, system, error: err.message });
        console.error(`run ${run + 1}/${opts.runs} ${system}: FAILED ${err.message}`);
        child?.kill();
      }
    }
  }
  clearTimeout(deadline);
  machine.loadAverageEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  machine.seconds = Math.round((performance.now() - started) / 1000);
  const report = printIdleReport(results, opts, machine);
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ machine, opts, results, failures }, null, 2));
  if (opts.write) writeIdleDocs(report);
  if (cpuProfDir) console.error(`CPU profiles in ${cpuProfDir} (node bench/lib/cpuprofile.mjs FILE --filter packages/)`);
  process.exit(failures.length > 0 ? 1 : 0);
}

if (process.argv[2] === '--serve') await serve(process.argv[3]);
else await main();
