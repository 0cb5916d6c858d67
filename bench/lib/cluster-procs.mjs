/**
 * Processes of bench/cluster.mjs: a private redis-server, Switchboard nodes (`switchboard serve`)
 * and Socket.IO nodes (cluster-socketio-node.mjs), each its own process so its CPU time (read
 * from /proc, user + system) belongs to it alone. Everything listens on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'packages/cli/dist/bin.js');
const SOCKETIO_NODE = path.join(ROOT, 'bench/lib/cluster-socketio-node.mjs');
const CLK_TCK = 100;

const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export function freePort() {
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
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready:\n${out}`)), 60_000);
    const onData = (d) => {
      if (process.env.BENCH_VERBOSE) process.stderr.write(d);
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

export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
}

/** CPU seconds (user + system) the process has used so far. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * Each process's idle CPU rate (timers, heartbeats, health probes) over `ms` of doing nothing, and
 * `since(before, seconds)`: each one's CPU seconds since the `cpuSeconds` readings `before`, less
 * that rate over `seconds`, so a measured phase counts only the work it caused.
 */
export async function idleBaseline(pids, ms = 2_000) {
  const start = performance.now();
  const before = pids.map(cpuSeconds);
  await new Promise((resolve) => setTimeout(resolve, ms));
  const perSecond = pids.map((pid, i) => (cpuSeconds(pid) - before[i]) / ((performance.now() - start) / 1000));
  const since = (from, seconds) => pids.map((pid, i) => Math.max(0, cpuSeconds(pid) - from[i] - perSecond[i] * seconds));
  return { perSecond, since };
}

/** A private redis-server for the run, with a command connection for FLUSHALL and INFO. */
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-redis-'));
  const { child } = await start(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {},
    /Ready to accept connections/,
  );
  const admin = new Redis(port, '127.0.0.1', { lazyConnect: true });
  await admin.connect();
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    async reset() {
      await admin.flushall();
      await admin.config('RESETSTAT');
    },
    resetStats: () => admin.config('RESETSTAT'),
    /** Calls per command since the last reset. */
    async commandStats() {
      const text = await admin.info('commandstats');
      const stats = {};
      for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats[m[1]] = Number(m[2]);
      return stats;
    },
    async stop() {
      admin.disconnect();
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `n` Switchboard nodes (`switchboard serve`), sharing `redisUrl` when given. `profileDir`: node --cpu-prof. */
export async function startSwitchboard({ n, redisUrl, secret, tag, profileDir = null, resumeWindowMs = null }) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-cluster-'));
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const prof = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${tag}-${i + 1}.cpuprofile`] : [];
    const args = [...prof, CLI, 'serve', '--http', '--host', '127.0.0.1', '--port', '0', '--secret', secret, '--log-level', 'warn', '--data-dir', dataDir];
    if (redisUrl) args.push('--redis', redisUrl);
    const env = {
      SWITCHBOARD_NODE_ID: `${tag}-${i + 1}`,
      SWITCHBOARD_LIMITS_MESSAGES_PER_SECOND: '1000000',
      SWITCHBOARD_LIMITS_MESSAGE_BURST: '1000000',
      SWITCHBOARD_LIMITS_MAX_CONNECTIONS_PER_USER: '1000',
      SWITCHBOARD_LIMITS_MAX_CONNECTIONS_PER_ADDRESS: '0',
      // On a loaded machine a Redis answer can take over the default 1 s: the node would call Redis
      // stalled and refuse posts (SERVER_UNAVAILABLE), which measures the machine, not the cluster.
      SWITCHBOARD_CLUSTER_COMMAND_TIMEOUT_MS: '10000',
    };
    if (resumeWindowMs !== null) env.SWITCHBOARD_RESUME_WINDOW_MS = String(resumeWindowMs);
    const { child, match } = await start(process.execPath, args, env, /Local:\s+http:\/\/localhost:(\d+)\//);
    nodes.push({ child, pid: child.pid, port: Number(match[1]) });
  }
  return {
    nodes,
    async stop() {
      await Promise.all(nodes.map((node) => stop(node.child)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `n` Socket.IO nodes, with @socket.io/redis-adapter on `redisUrl` when given. */
export async function startSocketIO({ n, redisUrl }) {
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const env = redisUrl ? { BENCH_REDIS_URL: redisUrl } : {};
    const { child, match } = await start(process.execPath, [SOCKETIO_NODE], env, /listening (\d+)/);
    nodes.push({ child, pid: child.pid, port: Number(match[1]) });
  }
  return {
    nodes,
    async stop() {
      await Promise.all(nodes.map((node) => stop(node.child)));
    },
  };
}
