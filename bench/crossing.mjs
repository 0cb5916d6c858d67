#!/usr/bin/env node
/**
 * What one message crossing processes costs on this machine, before any server does any work
 * with it: the floor under bench/cluster.mjs's light-load rows.
 *
 *   node bench/crossing.mjs                  # 3 runs, 2,000 messages each, 200 per second
 *   node bench/crossing.mjs --burst 4        # 4 at a time, 50 times a second (cluster.mjs's 4 senders in step)
 *   node bench/crossing.mjs --rate 0 --messages 20000   # back to back instead (each waits for the last)
 *
 * Options: --runs R (3), --messages N (2000), --rate per second (200, as cluster.mjs's light-load
 * post rate; 0: back to back), --burst B messages sent together (1), --size bytes (200).
 *
 * Three ways one node can hand a post to two others, each a set of Node processes on loopback
 * doing nothing else with the message (no parsing, no socket writes to clients):
 *   redis  the sender PUBLISHes to a channel two subscriber processes listen on (ioredis, a private
 *          redis-server) and waits for Redis's reply, as a node routing a group post does;
 *   tcp    the sender writes it straight to two receivers over TCP, and each answers a byte (a mesh
 *          of nodes with no broker, with an acknowledgement);
 *   none   the sender hands it to two listeners in its own process (one node: the baseline).
 * Reported: CPU (user + system from /proc) of every process involved per message, less each one's
 * idle rate measured before, in µs; medians over runs. 127.0.0.1 only; stops by itself.
 */
import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { cpuSeconds, idleBaseline, startRedis } from './lib/cluster-procs.mjs';
import { median } from './lib/stats.mjs';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    messages: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '200' },
    size: { type: 'string', default: '200' },
    burst: { type: 'string', default: '1' },
    role: { type: 'string', default: '' },
    redis: { type: 'string', default: '' },
  },
});
const MESSAGES = Number(opts.messages);
const RATE = Number(opts.rate);
const BURST = Number(opts.burst);
const PAYLOAD = 'x'.repeat(Number(opts.size));
const CHANNEL = 'crossing';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Sends MESSAGES through `send` (a promise per message), BURST at a time, paced at RATE per second. */
async function sendAll(send) {
  const start = performance.now();
  for (let i = 0; i < MESSAGES; i += BURST) {
    if (RATE > 0) {
      const due = start + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
    const burst = [];
    for (let j = i; j < Math.min(i + BURST, MESSAGES); j++) burst.push(send(j));
    await Promise.all(burst);
  }
}

// ------------------------------------------------------------------ child processes

async function receiverRole() {
  let received = 0;
  const report = () => process.send({ received });
  if (opts.redis) {
    const sub = new Redis(opts.redis);
    await sub.subscribe(CHANNEL);
    sub.on('messageBuffer', () => (received += 1));
    process.send({ ready: true });
  } else {
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      socket.on('data', (chunk) => {
        // One answer byte per message (a message is PAYLOAD plus a newline), in one write.
        let messages = 0;
        for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) messages += 1;
        received += messages;
        if (messages > 0) socket.write('k'.repeat(messages));
      });
    });
    server.listen(0, '127.0.0.1', () => process.send({ ready: true, port: server.address().port }));
  }
  process.on('message', (m) => m === 'report' && report());
}

async function senderRole() {
  let send;
  if (opts.redis) {
    const pub = new Redis(opts.redis);
    await pub.ping();
    send = () => pub.publish(CHANNEL, PAYLOAD);
  } else {
    const ports = JSON.parse(process.env.CROSSING_PORTS);
    const sockets = await Promise.all(
      ports.map(
        (port) =>
          new Promise((resolve) => {
            const socket = createConnection(port, '127.0.0.1', () => resolve(socket));
            socket.setNoDelay(true);
          }),
      ),
    );
    // Each receiver answers its messages in order: an answer settles the oldest message it has not answered.
    const waiting = sockets.map(() => []);
    sockets.forEach((socket, k) =>
      socket.on('data', (chunk) => {
        for (let n = 0; n < chunk.length; n++) {
          const message = waiting[k].shift();
          if (--message.missing === 0) message.resolve();
        }
      }),
    );
    send = () =>
      new Promise((resolve) => {
        const message = { missing: sockets.length, resolve };
        sockets.forEach((socket, k) => {
          waiting[k].push(message);
          socket.write(`${PAYLOAD}\n`);
        });
      });
  }
  process.send({ ready: true });
  process.on('message', async (m) => {
    if (m !== 'go') return;
    await sendAll(send);
    process.send({ done: true });
  });
}

// ------------------------------------------------------------------ parent

function child(role, env = {}, redisUrl = '') {
  const args = ['--role', role, '--messages', String(MESSAGES), '--rate', String(RATE), '--burst', String(BURST), '--size', opts.size];
  if (redisUrl) args.push('--redis', redisUrl);
  const proc = fork(fileURLToPath(import.meta.url), args, { env: { ...process.env, ...env }, stdio: 'inherit' });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  const next = () => new Promise((resolve) => proc.once('message', resolve));
  return { proc, next };
}

const children = new Set();
process.on('exit', () => {
  for (const proc of children) proc.kill('SIGKILL');
});

/** CPU µs per message of each process over the sending phase, less its idle rate. */
async function measure(pids, run) {
  const { since } = await idleBaseline(pids);
  const before = pids.map(cpuSeconds);
  const start = performance.now();
  await run();
  return since(before, (performance.now() - start) / 1000).map((seconds) => (seconds * 1e6) / MESSAGES);
}

async function crossProcess(kind, redis) {
  const receivers = [child('receiver', {}, redis?.url), child('receiver', {}, redis?.url)];
  const ready = await Promise.all(receivers.map((r) => r.next()));
  const sender = child('sender', { CROSSING_PORTS: JSON.stringify(ready.map((r) => r.port)) }, redis?.url);
  await sender.next();
  const pids = [sender.proc.pid, ...receivers.map((r) => r.proc.pid), ...(redis ? [redis.pid] : [])];
  const perProcess = await measure(pids, async () => {
    sender.proc.send('go');
    await sender.next();
  });
  const counts = await Promise.all(
    receivers.map((r) => {
      r.proc.send('report');
      return r.next();
    }),
  );
  for (const p of [sender, ...receivers]) p.proc.kill();
  const lost = counts.reduce((n, c) => n + MESSAGES - c.received, 0);
  if (lost > 0) throw new Error(`${kind}: ${lost} messages not received`);
  return { sender: perProcess[0], receivers: perProcess[1] + perProcess[2], redis: perProcess[3] ?? 0 };
}

async function inProcess() {
  const listeners = new EventEmitter();
  let received = 0;
  for (let i = 0; i < 2; i++) listeners.on('m', () => (received += 1));
  const [perMessage] = await measure([process.pid], () => sendAll(async () => listeners.emit('m', PAYLOAD)));
  if (received !== 2 * MESSAGES) throw new Error('in process: messages lost');
  return { sender: perMessage, receivers: 0, redis: 0 };
}

async function main() {
  const runs = Number(opts.runs);
  const redis = await startRedis();
  const results = { none: [], tcp: [], redis: [] };
  try {
    for (let run = 0; run < runs; run++) {
      results.none.push(await inProcess());
      results.tcp.push(await crossProcess('tcp', null));
      results.redis.push(await crossProcess('redis', redis));
      const last = (k) => results[k].at(-1);
      const total = (r) => r.sender + r.receivers + r.redis;
      console.log(
        `run ${run + 1}/${runs}: µs per message none ${total(last('none')).toFixed(1)}, tcp ${total(last('tcp')).toFixed(1)}, redis ${total(last('redis')).toFixed(1)}`,
      );
    }
  } finally {
    await redis.stop();
  }
  const f = (v) => v.toFixed(1);
  console.log(
    `\n${MESSAGES} messages of ${PAYLOAD.length} bytes to 2 receivers, ${RATE > 0 ? `${RATE} per second` : 'back to back'}${BURST > 1 ? `, ${BURST} at a time` : ''}; CPU µs per message, medians of ${runs} runs:\n`,
  );
  console.log('| Path | sender | 2 receivers | Redis | Total |');
  console.log('|---|---:|---:|---:|---:|');
  const label = { none: 'one process (listeners)', tcp: 'TCP to 2 processes, each answers', redis: 'Redis PUBLISH to 2 subscribers' };
  for (const [key, rows] of Object.entries(results)) {
    const m = (pick) => median(rows.map(pick));
    console.log(
      `| ${label[key]} | ${f(m((r) => r.sender))} | ${f(m((r) => r.receivers))} | ${f(m((r) => r.redis))} | **${f(m((r) => r.sender + r.receivers + r.redis))}** |`,
    );
  }
}

/** The longest a whole run may take before it gives up (a child that died leaves its parent waiting). */
const RUN_LIMIT_MS = 10 * 60_000;

if (opts.role) {
  // A child ends with its parent.
  process.on('disconnect', () => process.exit(0));
  await (opts.role === 'receiver' ? receiverRole() : senderRole());
} else {
  setTimeout(() => {
    console.error(`crossing.mjs: not done after ${RUN_LIMIT_MS / 60_000} minutes, giving up`);
    process.exit(1);
  }, RUN_LIMIT_MS).unref();
  await main();
}
