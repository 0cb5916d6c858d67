/**
 * The measurements of bench/idle.mjs, run against one fresh server child:
 *  - connect latency: K connections one after another, each from nothing to "ready" and closed
 *    again normally (1000): Switchboard as a guest does (POST /v1/guest, the socket, the welcome),
 *    PeerJS as its client does (GET /peerjs/id, the socket, OPEN), the ws floor (socket, welcome),
 *    Socket.IO (connect);
 *  - accept: C idle connections opened with at most P in progress; server CPU (user+system) per
 *    accepted connection and accepted connections per second of wall time;
 *  - memory: growth of the server's RSS and heap+external (after gc) with the C connections open.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { deferred, mapLimit, withTimeout } from './async.mjs';
import { dropClients } from './realtime-clients.mjs';
import { HOST } from './realtime-systems.mjs';
import { Samples } from './stats.mjs';

/** One connection from nothing to ready, closed with 1000 (no resume hold is left behind). */
async function connectOnce(system, info, io) {
  if (system === 'socketio') {
    const socket = io(`http://${HOST}:${info.port}`, { transports: ['websocket'], forceNew: true, reconnection: false });
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return () => socket.disconnect();
  }
  let url;
  let protocols;
  let ready;
  if (system === 'switchboard') {
    const res = await fetch(new URL('/v1/guest', info.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    if (res.status !== 200) throw new Error(`guest token: HTTP ${res.status}`);
    const { token } = await res.json();
    url = info.realtimeUrl;
    protocols = ['switchboard.v1', `bearer.${token}`];
    ready = (f) => f.type === 'welcome';
  } else if (system === 'peerjs') {
    const id = await (await fetch(`http://${HOST}:${info.port}/peerjs/id`)).text();
    url = `ws://${HOST}:${info.port}/peerjs?key=peerjs&id=${id}&token=t${Math.random().toString(36).slice(2)}`;
    ready = (f) => f.type === 'OPEN';
  } else {
    url = `ws://${HOST}:${info.port}/`;
    ready = (f) => f.type === 'welcome';
  }
  const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
  const done = deferred();
  ws.on('message', (raw) => {
    if (ready(JSON.parse(raw.toString()))) done.resolve();
  });
  ws.on('error', (err) => done.reject(err));
  ws.on('close', () => done.reject(new Error('closed before ready')));
  await done.promise;
  return () =>
    new Promise((resolve) => {
      ws.once('close', resolve);
      ws.close(1000);
    });
}

export async function connectLatency(system, info, count) {
  const io = system === 'socketio' ? (await import('socket.io-client')).io : null;
  const samples = new Samples(count);
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const close = await connectOnce(system, info, io);
    samples.push(performance.now() - t0);
    await close();
  }
  return samples;
}

/** Opens `count` idle connections, at most `parallel` in progress; returns the clients, wall time and server CPU. */
export async function acceptMany(child, connect, count, parallel) {
  const cpu0 = await child.cpuMicros();
  const t0 = performance.now();
  const clients = await withTimeout(
    mapLimit(
      Array.from({ length: count }, (_, i) => i),
      parallel,
      (i) => connect(i),
    ),
    600_000,
    `connecting ${count} clients`,
  );
  const wallMs = performance.now() - t0;
  const cpu1 = await child.cpuMicros();
  return { clients, wallMs, cpuMicros: cpu1 - cpu0 };
}

export async function scenarioIdle(system, child, connect, opts) {
  const C = opts.connections;
  let clients = [];
  try {
    // Loads the lazy code paths and warms the JIT before anything is measured.
    await connectLatency(system, child.info, opts.warmup);
    const latency = (await connectLatency(system, child.info, opts.latency)).summary();
    const before = await child.rpc('mem', 120_000);
    const accepted = await acceptMany(child, connect, C, opts.parallel);
    clients = accepted.clients;
    const after = await child.rpc('mem', 120_000);
    const heap = (x) => x.heapUsed + x.external;
    return {
      connections: C,
      rssKiBPerConn: (after.rss - before.rss) / C / 1024,
      heapKiBPerConn: (heap(after) - heap(before)) / C / 1024,
      baseRssMiB: before.rss / 2 ** 20,
      acceptCpuUs: accepted.cpuMicros / C,
      acceptPerSecond: C / (accepted.wallMs / 1000),
      connectP50Ms: latency.p50,
      connectP90Ms: latency.p90,
    };
  } finally {
    await child.stop();
    await dropClients(clients);
  }
}
