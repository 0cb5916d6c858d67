#!/usr/bin/env node
/**
 * Delivery under forced disconnects: Switchboard's session resume next to Socket.IO 4.8 with
 * connection-state recovery, the same load and the same kills, in one run.
 *
 *   npx tsc -b packages/protocol packages/server packages/client
 *   node bench/resume.mjs              # 3 runs; writes "## Delivery across forced disconnects" in docs/benchmarks.md
 *   node bench/resume.mjs --runs 1 --seconds 10 --no-write
 *
 * Options: --runs R (3), --clients N (100), --group-size G (10), --seconds S of kills per run (20),
 * --only switchboard,socketio, --json FILE (raw results), --from-json FILE (re-render a saved run), --no-write.
 *
 * Per (system, run): a fresh server child (bench/lib/resume-servers.mjs), N clients in this
 * process in groups of G, each posting {s, n, t} to its group every 0.5–1 s, one post in flight at
 * a time, and losing its socket every 5–15 s: half the kills destroy the TCP socket in the server
 * process, half terminate the client's own ws (bench/lib/resume-clients.mjs). The kill and post
 * schedule comes from a PRNG seeded by (run, client): both systems get the same one in a run.
 * After S s the kills and posts stop; when every client is connected again, each posts a fence
 * and the run ends when every fence reached every member (or after 20 s). Runs interleave the
 * systems; the table shows medians over runs. 127.0.0.1 only, bounded, stops by itself.
 *
 * Figures (every message a group member receives is checked against the acks its sender got):
 * delivery % = acked messages received by each member of the sender's group (sender included)
 * / (acked × G); duplicates = a message received again by the same member; reordered = received
 * after a later message of the same sender. Replay latency = for a message posted while its
 * recipient was away (between the kill and the reconnect) by a connected sender, its arrival −
 * the start of the reconnect attempt that succeeded, or − its post time if later (leaves out each
 * client's backoff policy); delay while away = its arrival − its post time (backoff included).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { mapLimit, withTimeout } from './lib/async.mjs';
import { describeMachine, machineInfo } from './lib/env.mjs';
import { markKilled, socketioClient, switchboardClient } from './lib/resume-clients.mjs';
import { printResumeReport, runFigures, writeResumeDocs } from './lib/resume-report.mjs';
import { serveResume } from './lib/resume-servers.mjs';
import { killServerChildren, ServerChild } from './lib/realtime-servers.mjs';
import { ROOT } from './lib/realtime-systems.mjs';

const SELF = fileURLToPath(import.meta.url);

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function waitUntil(check, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** One system, one run: connect, chaos, settle; returns every client with what it saw. */
async function chaosRun(system, child, opts, run, tokens) {
  const clients = await mapLimit(
    Array.from({ length: opts.clients }, (_, i) => i),
    10,
    async (i) => {
      const user = `u${i}`;
      const group = `g${Math.floor(i / opts.groupSize)}`;
      const c =
        system === 'switchboard'
          ? await switchboardClient({ url: child.info.url, token: tokens[i], user, group })
          : await socketioClient({ url: child.info.url, user, group });
      c.index = i;
      c.posted = 0;
      c.acked = new Set();
      c.failed = 0;
      c.received = new Map(); // sender → n in arrival order
      c.replayMs = [];
      c.awayDelayMs = [];
      c.onMessage = (m) => {
        if (typeof m?.s !== 'number') return;
        const now = performance.now();
        let list = c.received.get(m.s);
        if (!list) c.received.set(m.s, (list = []));
        list.push(m.n);
        const away = c.away;
        if (m.w && away && m.t >= away.killedAt && (away.connectedAt === null || m.t < away.connectedAt) && away.attemptAt !== null) {
          c.replayMs.push(now - Math.max(away.attemptAt, m.t));
          c.awayDelayMs.push(now - m.t);
        }
      };
      return c;
    },
  );
  const end = performance.now() + opts.seconds * 1000;
  const timers = new Set();
  const later = (ms, fn) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };
  const post = async (c, fence = false) => {
    const n = ++c.posted;
    try {
      // w: the sender was connected, so the post went out at once (a queued one waits for its sender's reconnect).
      await withTimeout(c.post({ s: c.index, n, t: performance.now(), w: c.up, ...(fence ? { fence } : {}) }), 60_000, 'post');
      c.acked.add(n);
    } catch {
      c.failed += 1;
    }
  };
  const kills = { server: 0, client: 0 };
  const loops = clients.map(async (c) => {
    const random = mulberry32(run * 100_003 + c.index);
    const killLater = () =>
      later(5_000 + random() * 10_000, () => {
        if (performance.now() >= end) return;
        const serverSide = random() < 0.5;
        if (c.up && c.isOpen()) {
          markKilled(c);
          if (serverSide) {
            kills.server += 1;
            child.rpc(`drop:${c.user}`).catch(() => {});
          } else {
            kills.client += 1;
            c.killClientSide();
          }
        }
        killLater();
      });
    killLater();
    while (performance.now() < end) {
      await new Promise((resolve) => later(500 + random() * 500, resolve));
      if (performance.now() < end) await post(c);
    }
  });
  await Promise.all(loops);
  for (const timer of timers) clearTimeout(timer);
  const settled = await waitUntil(() => clients.every((c) => c.up), 30_000);
  for (const c of clients) c.fence = c.posted + 1;
  await Promise.all(clients.map((c) => post(c, true)));
  const fenced = await waitUntil(() => clients.every((r) => clients.every((s) => s.group !== r.group || r.received.get(s.index)?.includes(s.fence))), 20_000);
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  return { clients, kills, settled, fenced };
}

async function main() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      clients: { type: 'string', default: '100' },
      'group-size': { type: 'string', default: '10' },
      seconds: { type: 'string', default: '20' },
      only: { type: 'string', default: 'switchboard,socketio' },
      json: { type: 'string' },
      'from-json': { type: 'string' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const opts = {
    runs: Number(values.runs),
    clients: Math.min(500, Number(values.clients)),
    groupSize: Number(values['group-size']),
    seconds: Math.min(120, Number(values.seconds)),
    systems: values.only.split(','),
  };
  if (values['from-json']) {
    // Re-render the report (and the docs section, unless --no-write) from a saved --json run.
    const saved = JSON.parse(readFileSync(values['from-json'], 'utf8'));
    const report = printResumeReport(saved.results, saved.opts, saved.machine);
    if (!values['no-write']) writeResumeDocs(report);
    return;
  }
  const started = performance.now();
  const machine = machineInfo({ cwd: ROOT, paths: ['packages/protocol/src', 'packages/server/src', 'packages/client/src'] });
  console.error(`${describeMachine(machine)}; load average ${machine.loadAverage.join(' ')}`);
  const secret = randomBytes(24).toString('base64url');
  const { signToken } = await import('@switchboard/server');
  const tokens = [];
  for (let i = 0; i < opts.clients; i++) tokens.push(await signToken([secret], { user_id: `u${i}`, ttlSeconds: 3600 }));
  process.on('SIGINT', () => {
    killServerChildren();
    process.exit(130);
  });
  const deadline = setTimeout(
    () => {
      console.error('overall timeout: stopping');
      killServerChildren();
      process.exit(2);
    },
    opts.runs * opts.systems.length * (opts.seconds + 150) * 1000,
  );
  deadline.unref();

  const results = {};
  for (let run = 0; run < opts.runs; run++) {
    const order = opts.systems.map((_, i) => opts.systems[(i + run) % opts.systems.length]);
    for (const system of order) {
      const t0 = performance.now();
      const child = await ServerChild.start(system, { script: SELF, secret });
      try {
        const figures = runFigures(await chaosRun(system, child, opts, run, tokens));
        (results[system] ??= []).push(figures);
        console.error(
          `run ${run + 1}/${opts.runs} ${system}: delivery ${figures.deliveryPercent.toFixed(3)} %, lost ${figures.lost}, duplicates ${figures.duplicates}, ` +
            `reordered ${figures.reordered}, recovered ${figures.recovered}/${figures.reconnects}, replay p50/p99 ${figures.replayP50.toFixed(1)}/${figures.replayP99.toFixed(1)} ms, ` +
            `reconnect attempt p50/p99 ${figures.handshakeP50.toFixed(1)}/${figures.handshakeP99.toFixed(1)} ms, posts ${figures.acked} acked ${figures.failed} failed ` +
            `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
        );
      } finally {
        await child.stop();
      }
    }
  }
  clearTimeout(deadline);
  machine.loadAverageEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  machine.seconds = Math.round((performance.now() - started) / 1000);
  const report = printResumeReport(results, opts, machine);
  if (values.json) writeFileSync(values.json, JSON.stringify({ machine, opts, results }, null, 2));
  if (!values['no-write']) writeResumeDocs(report);
  process.exit(0);
}

if (process.argv[2] === '--serve') await serveResume(process.argv[3]);
else await main();
