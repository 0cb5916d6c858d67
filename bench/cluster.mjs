#!/usr/bin/env node
/**
 * Cluster broadcast benchmark: group messages fanned out to members spread over 1 or 3 nodes,
 * Switchboard (memory store; Redis) next to Socket.IO (one node; @socket.io/redis-adapter), with
 * the CPU time of every server process and of Redis per delivery.
 *
 *   npx tsc -b packages/protocol packages/server packages/cli
 *   node bench/cluster.mjs                 # 3 runs per setup; writes "## Cluster broadcast" in docs/benchmarks.md
 *   node bench/cluster.mjs --runs 5 --no-write
 *   node bench/cluster.mjs --runs 1 --setups sb-redis-3 --cpu-prof /tmp/prof   # profiles of the nodes
 *
 * Options: --runs R (3), --groups G (4), --members M per group (25), --window W (8), --seconds S
 * measured sending time per run (4), --setups a,b (all), --cpu-prof DIR, --resume-window MS
 * (Switchboard's resume.windowMs; its default otherwise), --no-write.
 *
 * Per (setup, run): fresh server processes, one redis-server for the whole run (flushed, stats
 * reset, between setups). Member i of group g connects to node (i + g) mod N, so with 3 nodes two
 * thirds of the deliveries cross Redis. Member 0 of each group posts ~200-byte messages to its
 * group with at most W not yet delivered to every member (flow control: nothing is dropped).
 * Measured phase: deliveries/s, latency (receipt − send time carried in the payload; one clock),
 * CPU seconds (user + system, /proc) of each server process and of Redis over the phase divided
 * by its deliveries, and Redis commands per delivery (INFO commandstats). Then --light-seconds (4) at light load
 * (one message at a time per sender, every 20 ms) for latency without queueing. Setups rotate
 * order across runs; the tables show medians over runs. 127.0.0.1 only; stops by itself.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { connectSocketIO, connectSwitchboard } from './lib/cluster-clients.mjs';
import { cpuSeconds, idleBaseline, startRedis, startSocketIO, startSwitchboard } from './lib/cluster-procs.mjs';
import { replaceSection } from './lib/docs.mjs';
import { describeMachine, machineInfo } from './lib/env.mjs';
import { median } from './lib/stats.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECRET = 'bench-cluster-secret-0123456789abcdef';
const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    groups: { type: 'string', default: '4' },
    members: { type: 'string', default: '25' },
    window: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '4' },
    'light-seconds': { type: 'string', default: '4' },
    setups: { type: 'string', default: '' },
    'cpu-prof': { type: 'string', default: '' },
    'resume-window': { type: 'string', default: '' },
    'no-write': { type: 'boolean', default: false },
  },
});
const RUNS = Number(opts.runs);
const GROUPS = Number(opts.groups);
const MEMBERS = Number(opts.members);
const WINDOW = Number(opts.window);
const SECONDS = Number(opts.seconds);
const LIGHT_SECONDS = Number(opts['light-seconds']);
const RESUME_WINDOW = opts['resume-window'] === '' ? null : Number(opts['resume-window']);
const ALL_SETUPS = [
  { key: 'sb-memory-1', label: 'Switchboard, 1 node, memory store', system: 'sb', nodes: 1, redis: false },
  { key: 'sb-redis-3', label: 'Switchboard, 3 nodes + Redis', system: 'sb', nodes: 3, redis: true },
  { key: 'sb-memory-1-off', label: 'Switchboard, 1 node, memory store, resume off', system: 'sb', nodes: 1, redis: false, resume: 0 },
  { key: 'sb-redis-3-off', label: 'Switchboard, 3 nodes + Redis, resume off', system: 'sb', nodes: 3, redis: true, resume: 0 },
  { key: 'sio-1', label: 'Socket.IO, 1 node', system: 'sio', nodes: 1, redis: false },
  { key: 'sio-redis-3', label: 'Socket.IO, 3 nodes + redis-adapter', system: 'sio', nodes: 3, redis: true },
];
const SETUPS = opts.setups ? ALL_SETUPS.filter((s) => opts.setups.split(',').includes(s.key)) : ALL_SETUPS;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PAD = 'x'.repeat(150);

async function runSetup(setup, redis, run) {
  const servers =
    setup.system === 'sb'
      ? await startSwitchboard({
          n: setup.nodes,
          redisUrl: setup.redis ? redis.url : null,
          secret: SECRET,
          tag: `bench-${run}-${setup.key}`,
          profileDir: opts['cpu-prof'] || null,
          resumeWindowMs: setup.resume ?? RESUME_WINDOW,
        })
      : await startSocketIO({ n: setup.nodes, redisUrl: setup.redis ? redis.url : null });
  const connect = setup.system === 'sb' ? connectSwitchboard : connectSocketIO;
  const clients = [];
  try {
    const latencies = { T: [], L: [] };
    const outstanding = new Map(); // `${g}:${seq}` → deliveries still to come
    const senders = [];
    let phase = null; // 'T' measured, 'L' light load, null warm-up
    let measured = 0;
    let lightDeliveries = 0;
    let refused = 0;
    let lastDelivery = 0;
    let progress = performance.now();
    const onMessage = ({ s, t, q, w }) => {
      const now = performance.now();
      progress = now;
      if (w === 'T') {
        measured += 1;
        lastDelivery = now;
      } else if (w === 'L') lightDeliveries += 1;
      if (w) latencies[w].push(now - t);
      const key = `${s}:${q}`;
      const left = outstanding.get(key) - 1;
      if (left === 0) {
        outstanding.delete(key);
        senders[s]?.release();
      } else outstanding.set(key, left);
    };
    for (let g = 0; g < GROUPS; g++) {
      for (let m = 0; m < MEMBERS; m++) {
        const node = servers.nodes[(m + g) % setup.nodes];
        const client = await connect(node.port, `g${g}m${m}`, SECRET, onMessage);
        clients.push(client);
        await client.join(`group-${g}`);
        if (m === 0) senders[g] = { client, inFlight: 0, release: null };
      }
    }
    const waitFor = (s, ready) =>
      new Promise((resolve, reject) => {
        if (performance.now() - progress > 30_000) reject(new Error('stalled: deliveries stopped arriving'));
        s.wake = resolve;
        setTimeout(resolve, 100);
      }).then(() => (ready() ? undefined : waitFor(s, ready)));
    const sendLoop = async (g, until, window = WINDOW, max = Infinity) => {
      const s = senders[g];
      let q = 0;
      s.release = () => {
        s.inFlight -= 1;
        s.wake?.();
      };
      while (performance.now() < until() && q < max) {
        if (s.inFlight >= window) await waitFor(s, () => s.inFlight < window);
        if (performance.now() >= until()) break;
        s.inFlight += 1;
        const seq = q++;
        outstanding.set(`${g}:${seq}`, MEMBERS);
        s.client.post(`group-${g}`, { s: g, q: seq, t: performance.now(), w: phase, p: PAD }, () => {
          refused += 1;
          if (outstanding.delete(`${g}:${seq}`)) s.release();
        });
      }
      if (s.inFlight > 0) await waitFor(s, () => s.inFlight === 0);
    };
    // Idle cost (timers, heartbeats, health probes) over 2 s, subtracted from the measured phase:
    // the figures are the marginal CPU per delivery, whatever the throughput the machine allows.
    const pids = servers.nodes.map((n) => n.pid).concat(setup.redis ? [redis.pid] : []);
    const { perSecond: idlePerSecond, since: cpuSince } = await idleBaseline(pids);
    const warmEnd = performance.now() + 1000;
    await Promise.all(senders.map((_, g) => sendLoop(g, () => warmEnd)));
    // The measured phase: CPU of every server process and of Redis, and Redis's commands.
    if (setup.redis) await redis.resetStats();
    const cpuBefore = pids.map(cpuSeconds);
    phase = 'T';
    const phaseStart = performance.now();
    const end = phaseStart + SECONDS * 1000;
    await Promise.all(senders.map((_, g) => sendLoop(g, () => end)));
    const phaseSeconds = (performance.now() - phaseStart) / 1000;
    const cpu = cpuSince(cpuBefore, phaseSeconds);
    const commands = setup.redis ? await redis.commandStats() : {};
    const deliveriesPerSecond = measured / ((lastDelivery - phaseStart) / 1000);
    // Light load: the same rate for every setup (one post at a time per sender, every 20 ms), so
    // CPU per delivery compares the setups' work without the batching a saturated node gets.
    phase = 'L';
    const lightCpuBefore = pids.map(cpuSeconds);
    const lightStart = performance.now();
    const lightEnd = lightStart + LIGHT_SECONDS * 1000;
    await Promise.all(
      senders.map(async (_, g) => {
        while (performance.now() < lightEnd) {
          const next = performance.now() + 20;
          await sendLoop(g, () => lightEnd, 1, 1);
          await sleep(Math.max(0, next - performance.now()));
        }
      }),
    );
    const lightSeconds = (performance.now() - lightStart) / 1000;
    const lightCpu = cpuSince(lightCpuBefore, lightSeconds);
    const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
    const us = (seconds) => (seconds * 1e6) / measured;
    return {
      deliveriesPerSecond,
      deliveries: measured,
      refused,
      p50: pct(latencies.T, 0.5),
      p99: pct(latencies.T, 0.99),
      lightP50: pct(latencies.L, 0.5),
      lightP99: pct(latencies.L, 0.99),
      nodeUs: cpu.slice(0, setup.nodes).map(us),
      redisUs: setup.redis ? us(cpu[setup.nodes]) : 0,
      totalUs: us(cpu.reduce((a, b) => a + b, 0)),
      lightDeliveriesPerSecond: lightDeliveries / lightSeconds,
      lightRedisUs: setup.redis ? (lightCpu[setup.nodes] * 1e6) / lightDeliveries : 0,
      lightTotalUs: (lightCpu.reduce((a, b) => a + b, 0) * 1e6) / lightDeliveries,
      idleMsPerSecond: idlePerSecond.reduce((a, b) => a + b, 0) * 1000,
      commandsPerDelivery: Object.fromEntries(Object.entries(commands).map(([k, v]) => [k, v / measured])),
    };
  } finally {
    for (const c of clients) c.close();
    await servers.stop();
  }
}

const f2 = (x) => x.toFixed(2);
const f1 = (x) => x.toFixed(1);

function report(results, info) {
  const med = (key, f) => median(results[key].map(f));
  const rows = SETUPS.filter((s) => results[s.key].length > 0).map((s) => {
    const rs = results[s.key];
    const perNode = Array.from({ length: 3 }, (_, i) => (i < s.nodes ? f1(med(s.key, (r) => r.nodeUs[i])) : ''));
    return `| ${s.label} | ${perNode.join(' | ')} | ${s.redis ? f1(med(s.key, (r) => r.redisUs)) : ''} | **${f1(med(s.key, (r) => r.totalUs))}** | ${Math.round(med(s.key, (r) => r.deliveriesPerSecond)).toLocaleString('en-US')} | ${f2(med(s.key, (r) => r.p50))} / ${f2(med(s.key, (r) => r.p99))} | ${f2(med(s.key, (r) => r.lightP50))} / ${f2(med(s.key, (r) => r.lightP99))} | ${rs.map((r) => f1(r.totalUs)).join(' / ')} | ${f1(med(s.key, (r) => r.idleMsPerSecond))} |`;
  });
  const commandRows = SETUPS.filter((s) => s.redis && results[s.key].length > 0).map((s) => {
    const names = new Set(results[s.key].flatMap((r) => Object.keys(r.commandsPerDelivery)));
    const list = [...names]
      .map((n) => [n, med(s.key, (r) => r.commandsPerDelivery[n] ?? 0)])
      .filter(([, v]) => v >= 0.001)
      .sort((a, b) => b[1] - a[1]);
    const total = list.reduce((a, [, v]) => a + v, 0);
    return `| ${s.label} | ${total.toFixed(3)} | ${list.map(([n, v]) => `${n} ${v.toFixed(3)}`).join(', ')} |`;
  });
  const base = results['sb-memory-1']?.length ? med('sb-memory-1', (r) => r.totalUs) : null;
  const ratio = base && results['sb-redis-3']?.length ? med('sb-redis-3', (r) => r.totalUs) / base : null;
  const baseOff = results['sb-memory-1-off']?.length ? med('sb-memory-1-off', (r) => r.totalUs) : null;
  const ratioOff = baseOff && results['sb-redis-3-off']?.length ? med('sb-redis-3-off', (r) => r.totalUs) / baseOff : null;
  const lightRows = SETUPS.filter((s) => results[s.key].length > 0).map(
    (s) =>
      `| ${s.label} | ${Math.round(med(s.key, (r) => r.lightDeliveriesPerSecond)).toLocaleString('en-US')} | ${s.redis ? f1(med(s.key, (r) => r.lightRedisUs)) : ''} | **${f1(med(s.key, (r) => r.lightTotalUs))}** | ${results[s.key].map((r) => f1(r.lightTotalUs)).join(' / ')} |`,
  );
  const lightRatio = (cluster, single) =>
    results[cluster]?.length && results[single]?.length ? med(cluster, (r) => r.lightTotalUs) / med(single, (r) => r.lightTotalUs) : null;
  const lightOn = lightRatio('sb-redis-3', 'sb-memory-1');
  const lightOff = lightRatio('sb-redis-3-off', 'sb-memory-1-off');
  const lightSio = lightRatio('sio-redis-3', 'sio-1');
  return `Measured by \`node bench/cluster.mjs${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\` (${info.date.slice(0, 10)}, commit ${info.commit}; ${describeMachine(info)}; load average ${info.loadAverage.join(' ')}).
${GROUPS} groups × ${MEMBERS} members; one member per group posts ~200-byte messages (acked) with at most ${WINDOW} not yet delivered to every member; ${SECONDS} s measured after a 1 s warm-up, then ${LIGHT_SECONDS} s at light load (one message at a time per sender, every 20 ms: the same rate for every setup); medians of ${RUNS} runs, setups interleaved. Member *i* of group *g* connects to node (*i* + *g*) mod N. CPU is user + system time of each process over the measured phase, less its idle rate (timers, heartbeats, health probes; measured for 2 s before the warm-up and shown in the last column), divided by the deliveries in it (the clients, in the benchmark's own process, are not counted). Switchboard runs with its defaults (resume on${RESUME_WINDOW !== null ? `, resume.windowMs ${RESUME_WINDOW}` : ''}: every message is numbered and kept for replay, in Redis in a cluster) except in the *resume off* rows (\`resume.windowMs\` 0: no numbering, no replay buffer, like Socket.IO). Every process shares the same ${info.cpuCount} cores, so deliveries/s is not added capacity.

| Setup | CPU µs/delivery node 1 | node 2 | node 3 | Redis | Total | Deliveries/s | Latency p50 / p99 (ms) | Light load p50 / p99 (ms) | Total µs per run | Idle CPU ms/s |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|
${rows.join('\n')}
${ratio !== null ? `\nSwitchboard 3 nodes + Redis / 1 node in memory, total CPU per delivery: **${ratio.toFixed(2)}×** with resume on${ratioOff !== null ? `, **${ratioOff.toFixed(2)}×** with resume off` : ''}.\n` : ''}
At light load (the same deliveries per second for every setup, nothing batched by a backlog), CPU per delivery, all server processes and Redis, less their idle rates:

| Setup | Deliveries/s | Redis µs/delivery | Total µs/delivery | Total per run |
|---|---:|---:|---:|---|
${lightRows.join('\n')}
${lightOn !== null ? `\nAt light load, 3 nodes + Redis / 1 node in memory: **${lightOn.toFixed(2)}×** for Switchboard with resume on${lightOff !== null ? `, **${lightOff.toFixed(2)}×** with resume off` : ''}${lightSio !== null ? `; Socket.IO with its Redis adapter ${lightSio.toFixed(2)}×` : ''}.\n` : ''}
Redis commands per delivery (INFO commandstats over the measured phase; a post reaches ${MEMBERS} members):

| Setup | Commands per delivery | By command |
|---|---:|---|
${commandRows.join('\n')}
`;
}

async function main() {
  const redis = await startRedis();
  const results = Object.fromEntries(SETUPS.map((s) => [s.key, []]));
  try {
    for (let run = 0; run < RUNS; run++) {
      const order = SETUPS.map((_, i) => SETUPS[(i + run) % SETUPS.length]);
      for (const setup of order) {
        await redis.reset();
        let r;
        try {
          r = await runSetup(setup, redis, run);
        } catch (err) {
          // A loaded machine can starve the clients until the server drops one (heartbeat, slow consumer): skip the run.
          console.log(`run ${run + 1}/${RUNS} ${setup.label}: failed (${err.message}); not counted`);
          continue;
        }
        results[setup.key].push(r);
        const cmds = Object.values(r.commandsPerDelivery).reduce((a, b) => a + b, 0);
        console.log(
          `run ${run + 1}/${RUNS} ${setup.label}: ${Math.round(r.deliveriesPerSecond)} deliveries/s (${r.deliveries}); CPU µs/delivery ${r.nodeUs.map(f1).join(' + ')}${setup.redis ? ` + Redis ${f1(r.redisUs)}` : ''} = ${f1(r.totalUs)}${setup.redis ? `; Redis commands/delivery ${cmds.toFixed(3)}` : ''}; p50 ${f2(r.p50)} ms, p99 ${f2(r.p99)} ms; light p50 ${f2(r.lightP50)} ms, p99 ${f2(r.lightP99)} ms, ${f1(r.lightTotalUs)} µs/delivery`,
        );
        await sleep(300);
      }
    }
  } finally {
    await redis.stop();
  }
  const body = report(results, machineInfo({ cwd: ROOT }));
  console.log(`\n${body}`);
  if (!opts['no-write']) {
    replaceSection(path.join(ROOT, 'docs/benchmarks.md'), 'Cluster broadcast', body);
    console.log('wrote the "Cluster broadcast" section of docs/benchmarks.md');
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
