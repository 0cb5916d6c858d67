#!/usr/bin/env node
/**
 * Client-side benchmarks: the Node SDK's throughput next to the bare wire client, connectRealtime()
 * latency next to a raw `ws` socket and PeerJS, and time to ring (connectRTC → the callee's
 * `rtc:incoming`). Scenarios in bench/lib/client-scenarios.mjs.
 *
 *   npx tsc -b packages/protocol packages/server packages/client
 *   node bench/client.mjs             # 5 runs; writes the "Client SDK" section of docs/benchmarks.md
 *   node bench/client.mjs --quick     # 3 runs, fewer messages; prints only (add --write to update the docs)
 *
 * Options: --runs R, --scenarios throughput,connect,ring, --window W (round trips in flight, default 32),
 * --relay K (round trips measured), --timeout-s S (overall limit), --connects K (warm connections per system and run), --json FILE,
 * --from-json FILE [--write] (re-render a saved run), --sdk-before DIR [--sdk-before-label TEXT]: also measure an earlier build of packages/client (DIR holds its
 * dist/node/index.js, e.g. a `git archive` of an older commit transpiled with esbuild) in the same runs.
 * Profile the client side: node --cpu-prof --cpu-prof-dir DIR bench/client.mjs --scenarios throughput
 * (this process runs the clients; the servers are children).
 *
 * Every (scenario, system, run) gets a fresh server child (`--serve <kind>`, as bench/realtime.mjs);
 * runs rotate the systems' order. The Switchboard child marks when each HTTP request and upgrade
 * arrives (absolute time), so a connection's time splits into client and server parts. A "first"
 * connection is timed in a fresh process (`--connect-once`), the library already imported.
 * Loopback only (127.0.0.1), fixed counts, a stall timeout per phase and an overall timeout.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './lib/async.mjs';
import { breakdown, connectLib, scenarioRing, scenarioThroughput, sdkClient, timedConnect } from './lib/client-scenarios.mjs';
import { renderClientReport } from './lib/client-report.mjs';
import { describeMachine, machineInfo } from './lib/env.mjs';
import { clientFactory } from './lib/realtime-clients.mjs';
import { killServerChildren, serve, ServerChild } from './lib/realtime-servers.mjs';
import { ROOT } from './lib/realtime-systems.mjs';
import { replaceSection } from './lib/docs.mjs';

const SELF = fileURLToPath(import.meta.url);

function parseArgs(argv) {
  const value = (flag) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const quick = argv.includes('--quick');
  return {
    runs: Number(value('--runs') ?? (quick ? 3 : 5)),
    scenarios: (value('--scenarios') ?? 'throughput,connect,ring').split(','),
    window: Number(value('--window') ?? 32),
    relayCount: Number(value('--relay') ?? (quick ? 5_000 : 20_000)),
    warmup: quick ? 2_000 : 5_000,
    connects: Number(value('--connects') ?? (quick ? 10 : 20)),
    rings: quick ? 5 : 10,
    json: value('--json'),
    // An earlier build of the SDK measured in the same runs (its dist/node/index.js), e.g. the commit before a change.
    before: value('--sdk-before') ? path.resolve(value('--sdk-before'), 'dist', 'node', 'index.js') : null,
    beforeLabel: value('--sdk-before-label') ?? 'earlier build',
    write: argv.includes('--write') || (!quick && !argv.includes('--no-write')),
    timeoutMs: Number(value('--timeout-s') ?? (quick ? 900 : 1800)) * 1000,
  };
}

/** The server child: bench/realtime.mjs's servers, with the arrival of each HTTP request and upgrade marked. */
async function serveMarked(kind) {
  const arrivals = [];
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (name, req, res) {
    if (name === 'request' || name === 'upgrade') {
      const entry = { name, t: performance.timeOrigin + performance.now() };
      arrivals.push(entry);
      if (name === 'request') res.once('finish', () => (entry.finish = performance.timeOrigin + performance.now()));
    }
    return emit.apply(this, arguments);
  };
  process.on('message', (msg) => {
    if (msg.cmd === 'arrivals') process.send({ reply: msg.seq, value: arrivals.splice(0) });
  });
  await serve(kind);
}

/** A fresh process: import the library, time one connection, report it, exit. */
async function connectOnce(system, info, token, before) {
  const lib = await connectLib(system, token, before);
  const result = await timedConnect(system, info, lib);
  process.send(result, () => process.exit(0));
}

function coldConnect(system, info, token, before) {
  const proc = fork(SELF, ['--connect-once', system, JSON.stringify(info), token ?? '', before ?? ''], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const result = new Promise((resolve, reject) => {
    proc.once('message', resolve);
    proc.once('exit', (code) => reject(new Error(`connect-once exited (${code})`)));
  });
  return withTimeout(result, 30_000, `${system} first connection`).finally(() => proc.kill());
}

/** Runs one measurement; a failure (a server slow to start on a loaded machine) is reported and the run goes on. */
async function attempt(label, fn) {
  try {
    console.error(`${label}: ${await fn()}`);
  } catch (error) {
    failures.push(`${label}: ${error.message}`);
    console.error(`${label}: FAILED ${error.message}`);
    killServerChildren();
  }
}
const failures = [];

const SERVER_OF = { 'sdk-before': 'switchboard', sdk: 'switchboard', 'sdk-token': 'switchboard', ws: 'ws', peerjs: 'peerjs', wire: 'switchboard' };

async function runConnect(system, child, opts, token, lib) {
  const first = await coldConnect(system, child.info, token, opts.before);
  const samples = [];
  const steps = [];
  await timedConnect(system, child.info, lib); // this process's first: not counted
  for (let i = 0; i < opts.connects; i++) {
    await child.rpc('arrivals').catch(() => []);
    const { ms, marks } = await timedConnect(system, child.info, lib);
    samples.push(ms);
    if (system.startsWith('sdk')) steps.push(breakdown(marks, child.kind === 'switchboard' ? await child.rpc('arrivals') : []));
  }
  return { first: first.ms, samples, steps };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.argv.includes('--from-json')) {
    // Re-render (and with --write, re-write the docs section) from a saved run.
    const saved = JSON.parse(readFileSync(process.argv[process.argv.indexOf('--from-json') + 1], 'utf8'));
    const report = renderClientReport(saved.results, saved.opts, saved.machine);
    console.log(report);
    if (process.argv.includes('--write')) replaceSection(path.join(ROOT, 'docs', 'benchmarks.md'), 'Client SDK', report);
    return;
  }
  const machine = machineInfo({ cwd: ROOT, paths: ['packages/protocol/src', 'packages/server/src', 'packages/client/src'] });
  console.error(`${describeMachine(machine)}; load average ${machine.loadAverage.join(' ')}`);
  const results = { throughput: {}, connect: {}, ring: [] };
  const save = () => opts.json && writeFileSync(opts.json, JSON.stringify({ machine, opts, results, failures }, null, 2));
  const deadline = setTimeout(() => {
    console.error('overall timeout: stopping (the runs so far are in --json)');
    killServerChildren();
    save();
    process.exit(2);
  }, opts.timeoutMs);
  deadline.unref();
  const secret = randomBytes(24).toString('base64url');
  const { signToken } = await import('@switchboard/server');
  const tokens = [];
  for (let i = 0; i < 4; i++) tokens.push(await signToken([secret], { user_id: `client-bench-${i}`, ttlSeconds: 3600 }));
  const start = (kind) => ServerChild.start(kind, { script: SELF, secret });
  for (let run = 0; run < opts.runs; run++) {
    const rotate = (list) => list.map((_, i) => list[(i + run) % list.length]);
    if (opts.scenarios.includes('throughput')) {
      for (const system of rotate(opts.before ? ['switchboard', 'sdk', 'sdk-before'] : ['switchboard', 'sdk'])) {
        await attempt(`run ${run + 1} throughput ${system}`, async () => {
          const child = await start('switchboard');
          const sdk = system === 'switchboard' ? null : await import(system === 'sdk' ? '@switchboard/client/node' : opts.before);
          const connect = sdk ? (i) => sdkClient(child.info, tokens[i], sdk.Switchboard) : await clientFactory(system, child.info, { tokens });
          const value = await scenarioThroughput(child, connect, opts);
          (results.throughput[system] ??= []).push({ ...value, run });
          return `${Math.round(value.rate)} msgs/s, client ${value.clientCpuUsPerMessage.toFixed(1)} µs/msg`;
        });
      }
    }
    if (opts.scenarios.includes('connect')) {
      for (const system of rotate(opts.before ? ['sdk', 'sdk-before', 'sdk-token', 'ws', 'peerjs'] : ['sdk', 'sdk-token', 'ws', 'peerjs'])) {
        await attempt(`run ${run + 1} connect ${system}`, async () => {
          const child = await start(SERVER_OF[system]);
          try {
            const lib = await connectLib(system, tokens[2], opts.before);
            const value = await runConnect(system, child, opts, tokens[2], lib);
            (results.connect[system] ??= []).push(value);
            const sorted = [...value.samples].sort((x, y) => x - y);
            return `first ${value.first.toFixed(1)} ms, warm p50 ${sorted[sorted.length >> 1].toFixed(1)} ms`;
          } finally {
            await child.stop();
          }
        });
      }
    }
    if (opts.scenarios.includes('ring')) {
      await attempt(`run ${run + 1} ring`, async () => {
        const child = await start('switchboard');
        const value = await scenarioRing(child, child.info, opts, tokens);
        results.ring.push(value);
        return `${value.ringMs.toFixed(1)} ms, with a camera opening: ${value.ringWithCameraMs.toFixed(1)} ms`;
      });
    }
    save();
  }
  clearTimeout(deadline);
  const report = renderClientReport(results, opts, machine);
  if (failures.length) console.error(`${failures.length} measurement(s) failed:\n  ${failures.join('\n  ')}`);
  console.log(report);
  save();
  if (opts.write) replaceSection(path.join(ROOT, 'docs', 'benchmarks.md'), 'Client SDK', report);
  process.exit(0);
}

if (process.argv[2] === '--serve') await serveMarked(process.argv[3]);
else if (process.argv[2] === '--connect-once')
  await connectOnce(process.argv[3], JSON.parse(process.argv[4]), process.argv[5] || undefined, process.argv[6] || undefined);
else await main();
