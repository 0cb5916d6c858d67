#!/usr/bin/env node
/**
 * Cluster broadcast benchmark: group messages fanned out to members spread over 1 and 3
 * nodes sharing one Redis, plus a single node without Redis (memory store) for reference.
 *
 *   npx tsc -b packages/protocol packages/server packages/cli
 *   node bench/cluster.mjs                 # 3 runs per setup; writes "## Cluster broadcast" in docs/benchmarks.md
 *   node bench/cluster.mjs --runs 5 --no-write
 *
 * Options: --runs R (default 3), --groups G (4), --members M per group (25), --window W (8),
 * --seconds S measured sending time per run (4), --no-write.
 *
 * Setup per (configuration, run): fresh node processes (`switchboard serve --http --redis …`,
 * per-connection rate limit raised, logs at warn), one redis-server for the whole run (flushed
 * between setups). Member i of every group connects to node i mod N, so with 3 nodes two thirds
 * of the deliveries cross Redis. One member of each group (on node g mod N) posts ~200-byte
 * messages to its group, with at most W of its messages not yet delivered to every member
 * (flow control: nothing is dropped, every delivery is counted). deliveries/s = deliveries of the
 * messages sent during the measured phase / (last delivery − phase start); latency = receipt −
 * send time carried in the payload (all clients in this process: one clock), reported at that
 * load and in a light-load phase (one message at a time per sender, paced). Setups are
 * interleaved (rotating order) across runs; the table shows medians over runs.
 * Everything runs on 127.0.0.1 and stops by itself (per-phase stall timeout).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { REALTIME_PATH, SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '@switchboard/protocol';
import { signToken } from '@switchboard/server';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'packages/cli/dist/bin.js');
const SECRET = 'bench-cluster-secret-0123456789abcdef';
const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    groups: { type: 'string', default: '4' },
    members: { type: 'string', default: '25' },
    window: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '4' },
    'no-write': { type: 'boolean', default: false },
  },
});
const RUNS = Number(opts.runs);
const GROUPS = Number(opts.groups);
const MEMBERS = Number(opts.members);
const WINDOW = Number(opts.window);
const SECONDS = Number(opts.seconds);
const SETUPS = [
  { key: 'memory-1', label: '1 node, memory store (no Redis)', nodes: 1, redis: false },
  { key: 'redis-1', label: '1 node + Redis', nodes: 1, redis: true },
  { key: 'redis-3', label: '3 nodes + Redis', nodes: 3, redis: true },
];

const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function start(cmd, args, env, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready:\n${out}`)), 15_000);
    const onData = (d) => {
      out += d;
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      children.delete(child);
      clearTimeout(timer);
      reject(new Error(`${cmd} exited ${code}:\n${out}`));
    });
  });
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
}

async function redisCli(port, ...args) {
  await new Promise((resolve) => {
    const c = spawn('redis-cli', ['-p', String(port), ...args], { stdio: 'ignore' });
    c.once('exit', resolve);
  });
}

async function startNodes(setup, redisUrl, run) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-cluster-'));
  const nodes = [];
  for (let i = 0; i < setup.nodes; i++) {
    const args = [CLI, 'serve', '--http', '--host', '127.0.0.1', '--port', '0', '--secret', SECRET, '--log-level', 'warn', '--data-dir', dataDir];
    if (setup.redis) args.push('--redis', redisUrl);
    const { child, match } = await start(
      process.execPath,
      args,
      {
        SWITCHBOARD_NODE_ID: `bench-${run}-${setup.key}-${i + 1}`,
        SWITCHBOARD_LIMITS_MESSAGES_PER_SECOND: '1000000',
        SWITCHBOARD_LIMITS_MESSAGE_BURST: '1000000',
        SWITCHBOARD_LIMITS_MAX_CONNECTIONS_PER_USER: '1000',
        SWITCHBOARD_LIMITS_MAX_CONNECTIONS_PER_ADDRESS: '0',
      },
      /Local:\s+http:\/\/localhost:(\d+)\//,
    );
    nodes.push({ child, port: Number(match[1]) });
  }
  return {
    nodes,
    async stop() {
      await Promise.all(nodes.map((n) => stop(n.child)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function connect(port, userId, onFrame) {
  const token = await signToken([SECRET], { user_id: userId, ttlSeconds: 3600 });
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${REALTIME_PATH}`, [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${token}`]);
    ws.once('error', reject);
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === 'welcome') resolve(ws);
      else onFrame(frame);
    });
  });
}

function request(ws, pending, frame) {
  const id = pending.next++;
  return new Promise((resolve, reject) => {
    pending.map.set(id, { resolve, reject });
    ws.send(JSON.stringify({ ...frame, id }));
  });
}

const PAD = 'x'.repeat(150);

async function runSetup(setup, redisUrl, run) {
  const cluster = await startNodes(setup, redisUrl, run);
  const sockets = [];
  try {
    const latencies = { T: [], L: [] };
    const outstanding = new Map(); // `${g}:${seq}` → remaining deliveries
    const senders = [];
    let phase = null; // 'T' throughput, 'L' light-load latency, null warm-up
    let phaseStart = 0;
    let lastDelivery = 0;
    let measuredDeliveries = 0;
    let progress = performance.now();
    for (let g = 0; g < GROUPS; g++) {
      for (let m = 0; m < MEMBERS; m++) {
        const nodeIndex = (m + g) % setup.nodes; // member 0 (the sender) of group g sits on node g mod N
        const pending = { next: 1, map: new Map() };
        const ws = await connect(cluster.nodes[nodeIndex].port, `g${g}m${m}`, (frame) => {
          if (frame.type === 'error' && frame.id === null) throw new Error(`server error: ${frame.code}: ${frame.message}`);
          if (frame.type === 'ack' || frame.type === 'error') {
            const p = pending.map.get(frame.id);
            pending.map.delete(frame.id);
            if (!p && frame.type === 'error') throw new Error(`post failed: ${frame.code}: ${frame.message}`);
            if (frame.type === 'ack') p?.resolve(frame.result);
            else p?.reject(new Error(`${frame.code}: ${frame.message}`));
            return;
          }
          if (frame.type !== 'message') return;
          const now = performance.now();
          const { s, t, q, w } = frame.message;
          progress = now;
          if (w === 'T') {
            measuredDeliveries += 1;
            lastDelivery = now;
          }
          if (w) latencies[w].push(now - t);
          const key = `${s}:${q}`;
          const left = outstanding.get(key) - 1;
          if (left === 0) {
            outstanding.delete(key);
            senders[s]?.release();
          } else outstanding.set(key, left);
        });
        sockets.push(ws);
        await request(ws, pending, { type: 'join', group: `group-${g}` });
        if (m === 0) senders[g] = { ws, pending, inFlight: 0, release: null };
      }
    }
    const sendLoop = async (g, until, window = WINDOW, max = Infinity) => {
      const s = senders[g];
      let q = 0;
      let wake = null;
      s.release = () => {
        s.inFlight -= 1;
        wake?.();
      };
      while (performance.now() < until() && q < max) {
        while (s.inFlight >= window) {
          if (performance.now() - progress > 10_000) throw new Error('stalled: deliveries stopped arriving');
          await new Promise((r) => {
            wake = r;
            setTimeout(r, 100);
          });
        }
        if (performance.now() >= until()) break;
        s.inFlight += 1;
        const seq = q++;
        outstanding.set(`${g}:${seq}`, MEMBERS);
        s.ws.send(JSON.stringify({ type: 'post', id: s.pending.next++, to: `group-${g}`, message: { s: g, q: seq, t: performance.now(), w: phase, p: PAD } }));
      }
      while (s.inFlight > 0) {
        if (performance.now() - progress > 10_000) throw new Error('stalled: deliveries stopped arriving');
        await new Promise((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
    };
    // Warm-up, then the measured phase.
    const warmEnd = performance.now() + 1000;
    await Promise.all(senders.map((_, g) => sendLoop(g, () => warmEnd)));
    phase = 'T';
    phaseStart = performance.now();
    const end = phaseStart + SECONDS * 1000;
    await Promise.all(senders.map((_, g) => sendLoop(g, () => end)));
    const deliveriesPerSecond = measuredDeliveries / ((lastDelivery - phaseStart) / 1000);
    // Light load: one message at a time per sender, paced every 20 ms.
    phase = 'L';
    const lightEnd = performance.now() + 2000;
    await Promise.all(
      senders.map(async (_, g) => {
        while (performance.now() < lightEnd) {
          const next = performance.now() + 20;
          await sendLoop(g, () => lightEnd, 1, 1);
          await sleep(Math.max(0, next - performance.now()));
        }
      }),
    );
    const pct = (xs, p) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    };
    return {
      deliveriesPerSecond,
      deliveries: measuredDeliveries,
      p50: pct(latencies.T, 0.5),
      p99: pct(latencies.T, 0.99),
      lightP50: pct(latencies.L, 0.5),
      lightP99: pct(latencies.L, 0.99),
      lightDeliveries: latencies.L.length,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await cluster.stop();
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function replaceSection(file, heading, body) {
  const title = `## ${heading}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nLoopback benchmarks; each section is written by its script under bench/.\n';
  if (!text.endsWith('\n')) text += '\n';
  const section = `${title}\n\n${body.trim()}\n`;
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trimEnd() === title);
  if (at === -1) text = `${text}${text.endsWith('\n\n') ? '' : '\n'}${section}`;
  else {
    let end = lines.findIndex((l, i) => i > at && /^## /.test(l));
    if (end === -1) end = lines.length;
    const before = lines.slice(0, at).join('\n');
    const after = lines.slice(end).join('\n');
    text = `${before}${before ? '\n' : ''}${section}${after ? `\n${after}` : ''}`;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

async function main() {
  const redisPort = await freePort();
  const redisDir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-redis-'));
  const { child: redis } = await start(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir],
    {},
    /Ready to accept connections/,
  );
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const results = Object.fromEntries(SETUPS.map((s) => [s.key, []]));
  try {
    for (let run = 0; run < RUNS; run++) {
      const order = SETUPS.map((_, i) => SETUPS[(i + run) % SETUPS.length]);
      for (const setup of order) {
        await redisCli(redisPort, 'FLUSHALL');
        const r = await runSetup(setup, redisUrl, run);
        results[setup.key].push(r);
        console.log(
          `run ${run + 1}/${RUNS} ${setup.label}: ${Math.round(r.deliveriesPerSecond)} deliveries/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms (${r.deliveries} deliveries); light load p50 ${r.lightP50.toFixed(2)} ms, p99 ${r.lightP99.toFixed(2)} ms (${r.lightDeliveries})`,
        );
        await sleep(300);
      }
    }
  } finally {
    await stop(redis);
    rmSync(redisDir, { recursive: true, force: true });
  }
  const rows = SETUPS.map((s) => {
    const rs = results[s.key];
    const m = (f) => median(rs.map(f)).toFixed(2);
    return `| ${s.label} | ${Math.round(median(rs.map((r) => r.deliveriesPerSecond))).toLocaleString('en-US')} | ${m((r) => r.p50)} / ${m((r) => r.p99)} | ${m((r) => r.lightP50)} / ${m((r) => r.lightP99)} | ${rs.map((r) => Math.round(r.deliveriesPerSecond).toLocaleString('en-US')).join(' / ')} |`;
  });
  const cpus = os.cpus();
  const commit = (() => {
    try {
      return spawnSyncText('git', ['rev-parse', '--short', 'HEAD']);
    } catch {
      return '?';
    }
  })();
  const body = `Measured by \`node bench/cluster.mjs\` (${new Date().toISOString().slice(0, 10)}, commit ${commit}; Node ${process.version}, ${cpus.length} × ${cpus[0]?.model?.trim()}, load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}).
${GROUPS} groups × ${MEMBERS} members; one member per group posts ~200-byte messages with at most ${WINDOW} not yet delivered to every member; ${SECONDS} s measured after a 1 s warm-up; then 2 s at light load (each sender posts one message at a time, at most every 20 ms) for latency without queueing; medians of ${RUNS} runs (setups interleaved). Member *i* of a group connects to node *i* mod N, so with 3 nodes two thirds of the deliveries cross Redis pub/sub — once per node, not per member. Nodes, Redis and all ${GROUPS * MEMBERS} clients share the same cores, so the 3-node row measures the extra hop and the Redis round trips, not added capacity.

| Setup | Deliveries/s | Latency p50 / p99 at that load (ms) | Latency p50 / p99 at light load (ms) | Deliveries/s per run |
|---|---:|---:|---:|---|
${rows.join('\n')}
`;
  console.log(`\n${body}`);
  if (!opts['no-write']) {
    replaceSection(path.join(ROOT, 'docs/benchmarks.md'), 'Cluster broadcast', body);
    console.log('wrote the "Cluster broadcast" section of docs/benchmarks.md');
  }
}

function spawnSyncText(cmd, args) {
  return String(execFileSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })).trim();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
