#!/usr/bin/env node
/**
 * Realtime benchmarks: Switchboard next to raw `ws` (the floor), Socket.IO and the PeerJS
 * server, measured with the same harness in one run.
 *
 *   npx tsc -b packages/protocol packages/server packages/client
 *   node bench/realtime.mjs            # 5 runs; writes two sections of docs/benchmarks.md
 *   node bench/realtime.mjs --quick    # 3 runs, smaller N; prints only (add --write to update the docs)
 *
 * Options: --runs R, --only switchboard,sdk,ws,socketio,peerjs, --scenarios memory,fanout,dm,signal,
 * --window W (in-flight broadcast messages, default 16), --json FILE (raw results),
 * --memory-clients C, --dm-round-trips K, --signal-hops K, --warmup K, --single-messages K (sizes),
 * --cpu-prof (V8 CPU profiles of the Switchboard server children into a temp directory; read them
 * with `node bench/lib/cpuprofile.mjs FILE [--inclusive] [--filter packages/]`),
 * --timeout-s S (overall limit), --no-write, --from-json FILE [--write] (re-render a saved run).
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
 *
 * Switchboard runs with its per-connection rate limit raised (the default 50 messages/s would cap one
 * sender at 50 posts/s); everything else is its default configuration (tls off, logLevel silent).
 * Bounded: fixed message counts, a stall timeout per phase, an overall timeout; the server children
 * exit when this process goes away (IPC disconnect) or after their own time limit.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { deferred, mapLimit, tick, withTimeout, TimeoutError } from './lib/async.mjs';
import { replaceSection } from './lib/docs.mjs';
import { describeMachine, machineInfo } from './lib/env.mjs';
import { combineRuns, Samples } from './lib/stats.mjs';
import { fmt, markdownTable } from './lib/table.mjs';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..');
const versionOf = (pkg) => {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
};

const HOST = '127.0.0.1';
const ROOM = 'bench-room';

// ====================================================================== server children

/** Runs one server in this (child) process and answers the parent's requests over IPC. */
async function serve(kind) {
  const maxLifeMs = Number(process.env.BENCH_CHILD_MAX_MS ?? 300_000);
  setTimeout(() => process.exit(3), maxLifeMs).unref();
  process.on('disconnect', () => process.exit(0)); // the parent went away: stop by ourselves
  let cleanup = () => {};
  let info;

  if (kind === 'switchboard') {
    const { createServer } = await import('@switchboard/server');
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-'));
    cleanup = () => rmSync(dataDir, { recursive: true, force: true });
    const server = createServer({
      tls: { mode: 'off' },
      dataDir,
      logLevel: 'silent',
      auth: { secrets: [process.env.BENCH_SECRET] },
      // The default 50 messages/s per connection would cap one sender at 50 posts/s.
      limits: { messagesPerSecond: 1_000_000, messageBurst: 1_000_000 },
    });
    const address = await server.listen(0, HOST);
    info = { url: address.url, realtimeUrl: address.realtimeUrl, port: address.port };
  } else if (kind === 'ws') {
    info = { port: await serveRawWs() };
  } else if (kind === 'socketio') {
    const { Server } = await import('socket.io');
    const http = createHttpServer();
    const io = new Server(http, { serveClient: false, transports: ['websocket'] });
    io.on('connection', (socket) => {
      socket.on('join', (room, ack) => {
        socket.join(room);
        if (typeof ack === 'function') ack();
      });
      socket.on('post', (room, message) => io.to(room).emit('message', message));
      socket.on('dm', (to, message) => io.to(to).emit('dm', message));
    });
    info = { port: await listen(http) };
  } else if (kind === 'peerjs') {
    const { PeerServer } = await import('peer');
    const port = await new Promise((resolve) => {
      PeerServer({ port: 0, host: HOST, path: '/' }, (server) => resolve(server.address().port));
    });
    info = { port };
  } else {
    throw new Error(`unknown server kind ${kind}`);
  }

  process.on('message', async (msg) => {
    if (msg.cmd === 'mem') {
      for (let i = 0; i < 4; i++) {
        globalThis.gc?.();
        await tick();
      }
      process.send({ reply: msg.seq, value: process.memoryUsage() });
    } else if (msg.cmd === 'cpu') {
      process.send({ reply: msg.seq, value: process.cpuUsage() });
    } else if (msg.cmd === 'stop') {
      cleanup();
      process.exit(0); // --cpu-prof profiles are written on exit
    }
  });
  process.send({ ready: true, info });
}

function listen(http) {
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, HOST, () => resolve(http.address().port));
  });
}

/**
 * The floor: a minimal ws server. It parses each frame to route it (join a room, post to a
 * room, dm to a connection id) and forwards the frame's bytes unchanged: no validation, no acks
 * except for join, no re-serialization.
 */
async function serveRawWs() {
  const http = createHttpServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 1 << 20 });
  const clients = new Map();
  const rooms = new Map();
  let nextId = 0;
  wss.on('connection', (ws) => {
    const id = `c${++nextId}`;
    let room = null;
    clients.set(id, ws);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (msg.type === 'post') {
        const members = rooms.get(msg.to);
        if (members) for (const member of members) member.send(data, { binary: false });
      } else if (msg.type === 'dm') {
        clients.get(msg.to)?.send(data, { binary: false });
      } else if (msg.type === 'join') {
        room = String(msg.room);
        let members = rooms.get(room);
        if (!members) rooms.set(room, (members = new Set()));
        members.add(ws);
        ws.send('{"type":"joined"}');
      }
    });
    ws.on('close', () => {
      clients.delete(id);
      if (room) rooms.get(room)?.delete(ws);
    });
    ws.on('error', () => {});
    ws.send(JSON.stringify({ type: 'welcome', id }));
  });
  return listen(http);
}

// ====================================================================== parent: options

function parseArgs(argv) {
  const has = (flag) => argv.includes(flag);
  const value = (flag) => {
    const i = argv.indexOf(flag);
    return i === -1 ? undefined : argv[i + 1];
  };
  const quick = has('--quick');
  const list = (flag, all) => (value(flag) ? value(flag).split(',').map((s) => s.trim()) : all);
  const opts = {
    quick,
    runs: Number(value('--runs') ?? (quick ? 3 : 5)),
    systems: list('--only', ['switchboard', 'sdk', 'ws', 'socketio', 'peerjs']),
    scenarios: list('--scenarios', ['memory', 'fanout', 'dm', 'signal']),
    window: Number(value('--window') ?? 16),
    // [N clients, M messages]: 200k deliveries per measured phase at full size.
    fanout: quick ? [[50, 400], [200, 100]] : [[100, 2000], [500, 400]],
    singleMessages: Number(value('--single-messages') ?? (quick ? 50 : 100)),
    memoryClients: Number(value('--memory-clients') ?? (quick ? 500 : 2000)),
    dmRoundTrips: Number(value('--dm-round-trips') ?? (quick ? 300 : 5000)),
    signalHops: Number(value('--signal-hops') ?? (quick ? 200 : 5000)),
    // Round trips / hops before the measured ones: short phases otherwise measure JIT compilation
    // (process.cpuUsage counts the compiler threads), which favours servers with less code.
    warmup: Number(value('--warmup') ?? (quick ? 100 : 3000)),
    timeoutMs: Number(value('--timeout-s') ?? (quick ? 420 : 1800)) * 1000,
    json: value('--json'),
    cpuProf: has('--cpu-prof'),
    write: has('--write') || (!quick && !has('--no-write')),
  };
  if (!(opts.runs >= 1)) throw new Error('--runs must be ≥ 1');
  return opts;
}

const SYSTEMS = {
  switchboard: { label: 'Switchboard (wire, `ws` client)', server: 'switchboard', scenarios: ['memory', 'fanout', 'dm', 'signal'] },
  sdk: { label: 'Switchboard (Node SDK client)', server: 'switchboard', scenarios: ['fanout', 'dm'] },
  ws: { label: 'raw `ws` (floor)', server: 'ws', scenarios: ['memory', 'fanout', 'dm', 'signal'] },
  socketio: { label: 'Socket.IO', server: 'socketio', scenarios: ['memory', 'fanout', 'dm', 'signal'] },
  peerjs: { label: 'PeerJS server', server: 'peerjs', scenarios: ['memory', 'signal'] },
};

// ====================================================================== parent: children

const children = new Set();

class ServerChild {
  static async start(kind, { secret, cpuProfDir }) {
    const execArgv = ['--expose-gc'];
    if (cpuProfDir && kind === 'switchboard') execArgv.push('--cpu-prof', '--cpu-prof-dir', cpuProfDir);
    const proc = fork(SELF, ['--serve', kind], {
      cwd: ROOT,
      execArgv,
      env: { ...process.env, BENCH_SECRET: secret },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const child = new ServerChild(proc, kind);
    children.add(child);
    try {
      child.info = await withTimeout(child.ready.promise, 20_000, `${kind} server start`);
    } catch (err) {
      child.kill();
      throw err;
    }
    return child;
  }

  constructor(proc, kind) {
    this.proc = proc;
    this.kind = kind;
    this.seq = 0;
    this.pending = new Map();
    this.ready = deferred();
    this.exited = deferred();
    proc.on('message', (msg) => {
      if (msg.ready) this.ready.resolve(msg.info);
      else if (msg.reply !== undefined) {
        this.pending.get(msg.reply)?.resolve(msg.value);
        this.pending.delete(msg.reply);
      }
    });
    proc.on('exit', (code, signal) => {
      children.delete(this);
      const err = new Error(`${kind} server exited (${code ?? signal})`);
      this.ready.reject(err);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.exited.resolve();
    });
    this.ready.promise.catch(() => {});
  }

  rpc(cmd, timeoutMs = 30_000) {
    const seq = ++this.seq;
    const d = deferred();
    this.pending.set(seq, d);
    this.proc.send({ cmd, seq });
    return withTimeout(d.promise, timeoutMs, `${this.kind} ${cmd}`);
  }

  async cpuMicros() {
    const { user, system } = await this.rpc('cpu');
    return user + system;
  }

  async stop() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    try {
      this.proc.send({ cmd: 'stop' });
      await withTimeout(this.exited.promise, 10_000, `${this.kind} stop`);
    } catch {
      this.kill();
      await this.exited.promise;
    }
  }

  kill() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

// ====================================================================== parent: clients

/**
 * Every client has: id (address for DMs/signals), join(room), post(room, payload),
 * dm(to, payload), signal(to, type, sdp), onData(payload) and onSignal(type, sdp) hooks,
 * errors (server error frames), closed (a promise) and terminate().
 */
function baseClient() {
  return { id: null, onData: null, onSignal: null, errors: [], closed: deferred() };
}

function openWs(url, protocols) {
  return new WebSocket(url, protocols, { perMessageDeflate: false });
}

/** Switchboard over its wire protocol with a plain `ws` socket. */
async function switchboardWireClient(info, token) {
  const c = baseClient();
  const ws = openWs(info.realtimeUrl, ['switchboard.v1', `bearer.${token}`]);
  const welcome = deferred();
  const pending = new Map();
  let nextId = 1;
  ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString());
    switch (f.type) {
      case 'message':
      case 'private':
        c.onData?.(f.message);
        break;
      case 'ack': {
        const p = pending.get(f.id);
        if (p) {
          pending.delete(f.id);
          p.resolve(f.result);
        }
        break;
      }
      case 'error': {
        c.errors.push(`${f.code}: ${f.message}`);
        const p = pending.get(f.id);
        if (p) {
          pending.delete(f.id);
          p.reject(new Error(`${f.code}: ${f.message}`));
        }
        break;
      }
      case 'rtc':
        if (f.signal.kind === 'description') c.onSignal?.(f.signal.description.type, f.signal.description.sdp);
        else c.onRtc?.(f);
        break;
      case 'welcome':
        c.id = f.cid;
        welcome.resolve();
        break;
      default:
        break; // notices, pongs
    }
  });
  ws.on('error', (err) => welcome.reject(err));
  ws.on('close', () => {
    welcome.reject(new Error('closed before welcome'));
    c.closed.resolve();
  });
  await welcome.promise;
  const request = (frame) => {
    const id = nextId++;
    const d = deferred();
    pending.set(id, d);
    ws.send(JSON.stringify({ ...frame, id }));
    return d.promise;
  };
  c.request = request;
  c.join = (room) => request({ type: 'join', group: room });
  c.post = (to, message) => ws.send(JSON.stringify({ type: 'post', id: nextId++, to, message }));
  c.dm = c.post;
  c.rtc = (to, call, signal) => request({ type: 'rtc', to, call, signal });
  c.signal = (to, type, sdp) =>
    ws.send(JSON.stringify({ type: 'rtc', id: nextId++, to, call: 'bench-call', signal: { kind: 'description', description: { type, sdp } } }));
  c.terminate = () => ws.terminate();
  return c;
}

/** Switchboard through the Node SDK (postRealtime / the realtime callback). */
async function switchboardSdkClient(info, token, Switchboard) {
  const c = baseClient();
  const sb = new Switchboard({ url: info.url, token, reconnect: false });
  await sb.connectRealtime((event) => {
    if (event.type === 'message' || event.type === 'private') c.onData?.(event.message);
    else if (event.type === 'error') c.errors.push(event.message);
    else if (event.type === 'close') c.closed.resolve();
  });
  c.id = sb.cid;
  const fail = (err) => c.errors.push(err?.message ?? String(err));
  c.join = (room) => sb.joinRealtime({ group: room });
  c.post = (to, message) => {
    sb.postRealtime(message, to).catch(fail);
  };
  c.dm = c.post;
  c.terminate = () => {
    sb.closeRealtime().catch(() => {});
    // The server is stopped first, so closeRealtime ends at once; do not wait on it.
    c.closed.resolve();
  };
  return c;
}

/** Our minimal ws server's protocol. */
async function rawWsClient(info) {
  const c = baseClient();
  const ws = openWs(`ws://${HOST}:${info.port}/`);
  const welcome = deferred();
  let joined = null;
  ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString());
    switch (f.type) {
      case 'post':
        c.onData?.(f.message);
        break;
      case 'dm':
        if (f.message.sig) c.onSignal?.(f.message.sig, f.message.sdp);
        else c.onData?.(f.message);
        break;
      case 'joined':
        joined?.resolve();
        break;
      case 'welcome':
        c.id = f.id;
        welcome.resolve();
        break;
    }
  });
  ws.on('error', (err) => welcome.reject(err));
  ws.on('close', () => {
    welcome.reject(new Error('closed before welcome'));
    c.closed.resolve();
  });
  await welcome.promise;
  c.join = (room) => {
    joined = deferred();
    ws.send(JSON.stringify({ type: 'join', room }));
    return joined.promise;
  };
  c.post = (to, message) => ws.send(JSON.stringify({ type: 'post', to, message }));
  c.dm = (to, message) => ws.send(JSON.stringify({ type: 'dm', to, message }));
  c.signal = (to, type, sdp) => ws.send(JSON.stringify({ type: 'dm', to, message: { sig: type, sdp } }));
  c.terminate = () => ws.terminate();
  return c;
}

async function socketIoClient(info, io) {
  const c = baseClient();
  const socket = io(`http://${HOST}:${info.port}`, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  c.id = socket.id;
  socket.on('message', (message) => c.onData?.(message));
  socket.on('dm', (message) => {
    if (message.sig) c.onSignal?.(message.sig, message.sdp);
    else c.onData?.(message);
  });
  socket.on('disconnect', () => c.closed.resolve());
  c.join = (room) => new Promise((resolve) => socket.emit('join', room, resolve));
  c.post = (room, message) => socket.emit('post', room, message);
  c.dm = (to, message) => socket.emit('dm', to, message);
  c.signal = (to, type, sdp) => socket.emit('dm', to, { sig: type, sdp });
  c.terminate = () => {
    socket.disconnect();
    c.closed.resolve();
  };
  return c;
}

/** PeerJS server's websocket protocol (what the peerjs browser client speaks). */
async function peerJsClient(info, index) {
  const c = baseClient();
  c.id = `peer-${index}-${randomBytes(4).toString('hex')}`;
  const ws = openWs(`ws://${HOST}:${info.port}/peerjs?key=peerjs&id=${c.id}&token=${randomBytes(6).toString('hex')}`);
  const open = deferred();
  ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString());
    if (f.type === 'OFFER' || f.type === 'ANSWER') c.onSignal?.(f.payload.sdp.type, f.payload.sdp.sdp);
    else if (f.type === 'OPEN') open.resolve();
    else if (f.type === 'ERROR' || f.type === 'ID-TAKEN') {
      c.errors.push(JSON.stringify(f));
      open.reject(new Error(JSON.stringify(f)));
    }
  });
  ws.on('error', (err) => open.reject(err));
  ws.on('close', () => {
    open.reject(new Error('closed before OPEN'));
    c.closed.resolve();
  });
  await open.promise;
  c.signal = (to, type, sdp) =>
    ws.send(JSON.stringify({
      type: type === 'offer' ? 'OFFER' : 'ANSWER',
      dst: to,
      payload: { sdp: { type, sdp }, type: 'data', connectionId: 'dc_bench', label: 'dc_bench', reliable: true, serialization: 'binary', browser: 'node' },
    }));
  c.terminate = () => ws.terminate();
  return c;
}

/** A connect function for a system: (index) => client. */
async function clientFactory(system, info, ctx) {
  switch (system) {
    case 'switchboard':
      return (i) => switchboardWireClient(info, ctx.tokens[i]);
    case 'sdk': {
      const { Switchboard } = await import('@switchboard/client/node');
      return (i) => switchboardSdkClient(info, ctx.tokens[i], Switchboard);
    }
    case 'ws':
      return () => rawWsClient(info);
    case 'socketio': {
      const { io } = await import('socket.io-client');
      return () => socketIoClient(info, io);
    }
    case 'peerjs':
      return (i) => peerJsClient(info, i);
    default:
      throw new Error(`unknown system ${system}`);
  }
}

async function connectMany(connect, count, offset = 0) {
  return withTimeout(
    mapLimit(Array.from({ length: count }, (_, i) => i + offset), 50, (i) => connect(i)),
    120_000,
    `connecting ${count} clients`,
  );
}

/** Closes clients after their server is gone; waits (bounded) until each saw its close. */
async function dropClients(clients) {
  for (const c of clients) {
    try {
      c.terminate();
    } catch {
      // already closed
    }
  }
  await withTimeout(Promise.all(clients.map((c) => c.closed.promise)), 15_000, 'closing clients').catch(() => {});
}

function assertNoErrors(clients, what) {
  const errors = clients.flatMap((c) => c.errors);
  if (errors.length > 0) throw new Error(`${what}: ${errors.length} error(s), first: ${errors[0]}`);
}

// ====================================================================== parent: scenarios

const PAYLOAD_BYTES = 200;
/** A ~200-byte JSON payload: run tag, sequence number, send time, padding. */
function payloadPad() {
  const base = JSON.stringify({ r: 'abcdef', s: 1000, ts: 123456.789012345, p: '' }).length;
  return 'x'.repeat(PAYLOAD_BYTES - base);
}
const PAD = payloadPad();

/** Waits until `isDone()` (checked by `notify`), failing when nothing progresses for `stallMs`. */
function progressWaiter(progress, stallMs, describe) {
  const done = deferred();
  let last = -1;
  let lastChange = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const p = progress();
    if (p !== last) {
      last = p;
      lastChange = now;
    } else if (now - lastChange > stallMs) {
      done.reject(new TimeoutError(`stalled for ${stallMs} ms: ${describe()}`));
    }
  }, 250);
  done.promise.finally(() => clearInterval(timer)).catch(() => {});
  return done;
}

/**
 * One broadcast phase: `sender` posts M messages to ROOM with at most `window` not yet
 * delivered to all N clients; every client must receive every message exactly once.
 */
async function broadcastPhase(clients, sender, M, window) {
  const N = clients.length;
  const tag = randomBytes(3).toString('hex');
  const perSeq = new Uint32Array(M);
  const perClient = new Uint32Array(N);
  const latency = new Samples(N * M);
  let sent = 0;
  let completed = 0;
  let extra = 0;
  let lastAt = 0;
  const finished = progressWaiter(
    () => latency.length,
    15_000,
    () => `sent ${sent}/${M}, complete ${completed}, deliveries ${latency.length}/${N * M}`,
  );
  const pump = () => {
    while (sent < M && sent - completed < window) {
      sender.post(ROOM, { r: tag, s: sent, ts: performance.now(), p: PAD });
      sent += 1;
    }
  };
  clients.forEach((c, i) => {
    c.onData = (m) => {
      const now = performance.now();
      if (m === null || typeof m !== 'object' || m.r !== tag) return;
      latency.push(now - m.ts);
      perClient[i] += 1;
      const count = ++perSeq[m.s];
      if (count > N) extra += 1;
      if (count === N) {
        completed += 1;
        lastAt = now;
        if (completed === M) finished.resolve();
        else pump();
      }
    };
  });
  const t0 = performance.now();
  pump();
  await finished.promise;
  for (const c of clients) c.onData = null;
  const missing = perClient.reduce((n, got) => n + Math.max(0, M - got), 0);
  if (extra > 0 || missing > 0 || latency.length !== N * M) {
    throw new Error(`delivery check failed: ${latency.length}/${N * M} deliveries, ${missing} missing, ${extra} duplicates`);
  }
  const seconds = (lastAt - t0) / 1000;
  const s = latency.summary();
  return { deliveries: N * M, seconds, rate: (N * M) / seconds, p50: s.p50, p99: s.p99, max: s.max };
}

async function scenarioFanout(system, child, connect, opts, N, M) {
  const clients = await connectMany(connect, N);
  try {
    await withTimeout(mapLimit(clients, 50, (c) => c.join(ROOM)), 60_000, 'joining');
    const sender = clients[0];
    await broadcastPhase(clients, sender, Math.max(20, Math.round(M / 2)), opts.window); // warm-up (JIT)
    const cpu0 = await child.cpuMicros();
    const result = await broadcastPhase(clients, sender, M, opts.window);
    const cpu1 = await child.cpuMicros();
    // Unloaded: one message at a time, so latency is the fan-out itself, not queueing behind the window.
    const single = await broadcastPhase(clients, sender, opts.singleMessages, 1);
    assertNoErrors(clients, 'fanout');
    return {
      ...result,
      serverCpuUsPerDelivery: (cpu1 - cpu0) / result.deliveries,
      singleP50: single.p50,
      singleP99: single.p99,
    };
  } finally {
    await child.stop();
    await dropClients(clients);
  }
}

/** A → B → A, one at a time: a warm-up, then `k` measured round trips. */
async function pingPong(a, b, k, warmup, child) {
  const rtt = new Samples(k);
  b.onData = (m) => b.dm(a.id, m);
  const send = (i) => a.dm(b.id, { r: 'dm', s: i, ts: performance.now(), p: PAD });
  const run = (count, record) =>
    new Promise((resolve, reject) => {
      let i = 0;
      const stall = progressWaiter(() => i, 10_000, () => `round trip ${i}/${count}`);
      stall.promise.catch(reject);
      a.onData = (m) => {
        if (record) rtt.push(performance.now() - m.ts);
        i += 1;
        if (i === count) {
          stall.resolve();
          resolve();
        } else send(i);
      };
      send(0);
    });
  await run(warmup, false);
  const cpu0 = await child.cpuMicros();
  await run(k, true);
  const cpu1 = await child.cpuMicros();
  a.onData = null;
  b.onData = null;
  return { ...rtt.summary(), serverCpuUsPerRoundTrip: (cpu1 - cpu0) / k };
}

async function scenarioDm(system, child, connect, opts) {
  const clients = await connectMany(connect, 2);
  try {
    const [a, b] = clients;
    const s = await pingPong(a, b, opts.dmRoundTrips, opts.warmup, child);
    assertNoErrors(clients, 'dm');
    return { p50: s.p50, p99: s.p99, max: s.max, serverCpuUsPerRoundTrip: s.serverCpuUsPerRoundTrip };
  } finally {
    await child.stop();
    await dropClients(clients);
  }
}

async function scenarioMemory(system, child, connect, opts) {
  const C = opts.memoryClients;
  const warm = await connectMany(connect, 10, C); // loads lazy code paths before the baseline
  let clients = [];
  try {
    for (const c of warm) c.terminate();
    await withTimeout(Promise.all(warm.map((c) => c.closed.promise)), 10_000, 'closing warm-up clients');
    const before = await child.rpc('mem');
    clients = await connectMany(connect, C);
    const after = await child.rpc('mem');
    assertNoErrors(clients, 'memory');
    const heap = (x) => x.heapUsed + x.external;
    return {
      heapKiBPerConn: (heap(after) - heap(before)) / C / 1024,
      rssKiBPerConn: (after.rss - before.rss) / C / 1024,
      baseRssMiB: before.rss / 2 ** 20,
    };
  } finally {
    await child.stop();
    await dropClients([...warm, ...clients]);
  }
}

/** A ~4 KB SDP (Chrome-like audio+video+data offer); the origin line carries a sequence number. */
function sdpTemplate(type) {
  const lines = [
    's=-', 't=0 0', 'a=group:BUNDLE 0 1 2', 'a=extmap-allow-mixed', 'a=msid-semantic: WMS bench',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0',
    'a=ice-ufrag:Zx4f', 'a=ice-pwd:7bd5cS3/8PHg1UOkVwgFP1qN', 'a=ice-options:trickle',
    'a=fingerprint:sha-256 3B:79:0E:27:B1:86:4C:5A:9E:0D:31:75:F2:10:AA:64:C8:7D:5E:EB:16:02:9B:41:27:6E:8C:D3:F0:15:A2:99',
    `a=setup:${type === 'offer' ? 'actpass' : 'active'}`, 'a=mid:0', 'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    'a=sendrecv', 'a=msid:bench 2f5e1c1e-7a7b-4b53-9b0e-3f1d7c2c9a11', 'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc', 'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:63 red/48000/2', 'a=fmtp:63 111/111', 'a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
    'a=ssrc:3735928559 cname:benchcname', 'm=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 45 46', 'c=IN IP4 0.0.0.0',
    'a=mid:1', 'a=sendrecv', 'a=rtcp-mux', 'a=rtcp-rsize',
  ];
  for (const [pt, codec] of [[96, 'VP8'], [98, 'VP9'], [100, 'H264'], [45, 'AV1']]) {
    lines.push(`a=rtpmap:${pt} ${codec}/90000`, `a=rtcp-fb:${pt} goog-remb`, `a=rtcp-fb:${pt} transport-cc`,
      `a=rtcp-fb:${pt} ccm fir`, `a=rtcp-fb:${pt} nack`, `a=rtcp-fb:${pt} nack pli`, `a=rtpmap:${pt + 1} rtx/90000`, `a=fmtp:${pt + 1} apt=${pt}`);
  }
  lines.push('m=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', 'a=mid:2', 'a=sctp-port:5000', 'a=max-message-size:262144');
  let n = 0;
  while (lines.join('\r\n').length < 3900) {
    n += 1;
    lines.push(`a=candidate:${1000 + n} 1 udp ${2122260223 - n} 192.168.${n % 250}.${(n * 7) % 250} ${50000 + n} typ host generation 0 network-id 1`);
  }
  return `${lines.join('\r\n')}\r\n`;
}
const SDP_REST = { offer: sdpTemplate('offer'), answer: sdpTemplate('answer') };
const makeSdp = (type, seq) => `v=0\r\no=- ${seq} 2 IN IP4 127.0.0.1\r\n${SDP_REST[type]}`;
const sdpSeq = (sdp) => Number(sdp.slice(9, sdp.indexOf(' ', 9)));

async function scenarioSignal(system, child, connect, opts) {
  const clients = await connectMany(connect, 2);
  try {
    const [a, b] = clients;
    if (system === 'switchboard') {
      // A real call: both in one group, invite, accept; then descriptions are relayed.
      await a.join('sig-room');
      await b.join('sig-room');
      const invited = deferred();
      b.onRtc = (f) => f.signal.kind === 'invite' && invited.resolve();
      await a.rtc(b.id, 'bench-call', { kind: 'invite', media: { audio: true, video: true } });
      await withTimeout(invited.promise, 5_000, 'invite');
      await b.rtc(a.id, 'bench-call', { kind: 'accept' });
    }
    const sentAt = new Map();
    const hop = new Samples(opts.signalHops);
    const run = (count, record) =>
      new Promise((resolve, reject) => {
        let i = 0;
        const stall = progressWaiter(() => i, 10_000, () => `hop ${i}/${count}`);
        stall.promise.catch(reject);
        const send = (from, to, seq) => {
          const type = seq % 2 === 0 ? 'offer' : 'answer';
          const sdp = makeSdp(type, seq);
          sentAt.set(seq, performance.now());
          from.signal(to.id, type, sdp);
        };
        const receive = (self, other) => (type, sdp) => {
          const now = performance.now();
          const seq = sdpSeq(sdp);
          if (record) hop.push(now - sentAt.get(seq));
          sentAt.delete(seq);
          i += 1;
          if (i === count) {
            stall.resolve();
            resolve();
          } else send(self, other, seq + 1);
        };
        a.onSignal = receive(a, b);
        b.onSignal = receive(b, a);
        send(a, b, 0);
      });
    await run(opts.warmup, false);
    const cpu0 = await child.cpuMicros();
    await run(opts.signalHops, true);
    const cpu1 = await child.cpuMicros();
    assertNoErrors(clients, 'signal');
    const s = hop.summary();
    return { p50: s.p50, p99: s.p99, max: s.max, serverCpuUsPerMessage: (cpu1 - cpu0) / opts.signalHops };
  } finally {
    await child.stop();
    await dropClients(clients);
  }
}

// ====================================================================== parent: main

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
    for (const child of children) child.kill();
    printReport(results, opts, machine, { partial: true, failures });
    process.exit(2);
  }, opts.timeoutMs);
  deadline.unref();
  process.on('SIGINT', () => {
    for (const child of children) child.kill();
    process.exit(130);
  });

  const { signToken } = await import('@switchboard/server');
  const tokenCount = Math.max(opts.memoryClients + 10, ...opts.fanout.map(([n]) => n));
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
          child = await ServerChild.start(SYSTEMS[system].server, { secret, cpuProfDir });
          const connect = await clientFactory(system, child.info, { tokens });
          let value;
          if (sk.scenario === 'fanout') value = await scenarioFanout(system, child, connect, opts, sk.n, sk.m);
          else if (sk.scenario === 'dm') value = await scenarioDm(system, child, connect, opts);
          else if (sk.scenario === 'memory') value = await scenarioMemory(system, child, connect, opts);
          else if (sk.scenario === 'signal') value = await scenarioSignal(system, child, connect, opts);
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

function writeDocs(report) {
  const file = path.join(ROOT, 'docs', 'benchmarks.md');
  replaceSection(file, 'Realtime messaging', report.realtime, { intro: DOC_INTRO });
  replaceSection(file, 'Signaling relay', report.signaling, { intro: DOC_INTRO });
  console.error(`\nWrote the "Realtime messaging" and "Signaling relay" sections of ${path.relative(process.cwd(), file)}.`);
}

function summaryLine(v) {
  return Object.entries(v)
    .map(([k, x]) => `${k}=${typeof x === 'number' ? fmt(x) : x}`)
    .join(' ');
}

const DOC_INTRO = `# Benchmarks

Speed and memory of Switchboard next to the alternatives, each measured with the same harness
against the alternatives in one run, reported as medians of several runs. Load tests talk to
loopback only (127.0.0.0/8), are bounded in count and time, and stop by themselves. Numbers from a
shared 2-core machine are noisy: compare systems within one table, not across runs or machines.

## How to run

\`\`\`sh
npx tsc -b packages/protocol packages/server packages/client   # the benchmarks import the built dist
node bench/realtime.mjs           # realtime messaging + signaling relay, 5 runs (~6 min here), updates this file
node bench/realtime.mjs --quick   # 3 smaller runs, prints only (--write to update this file)
\`\`\`

`;

// ====================================================================== report

function printReport(results, opts, machine, { partial = false, failures = [] } = {}) {
  const combined = {};
  for (const [key, bySystem] of Object.entries(results)) {
    // Share of the windowed phase's wall time the server process was on a CPU (cpu / seconds).
    if (key.startsWith('fanout-')) {
      for (const runs of Object.values(bySystem)) for (const r of runs) r.serverBusy ??= (r.rate * r.serverCpuUsPerDelivery) / 1e6;
    }
    combined[key] = {};
    for (const [system, runs] of Object.entries(bySystem)) combined[key][system] = combineRuns(runs);
  }
  const get = (key, system, field) => combined[key]?.[system]?.[field];
  const med = (key, system, field, digits = 3) => fmt(get(key, system, field)?.median, digits);
  const runsOf = (key, system) => results[key]?.[system]?.length ?? 0;
  const ms = (key, system, field) => {
    const e = get(key, system, field);
    return e ? fmt(e.median, 2) : '–';
  };
  const rate = (key, system) => {
    const e = get(key, system, 'rate');
    if (!e) return '–';
    return e.n > 1 ? `${fmt(e.median / 1000, 3)}k (${fmt(e.min / 1000, 2)}k–${fmt(e.max / 1000, 2)}k)` : `${fmt(e.median / 1000, 3)}k`;
  };
  const label = (s) => SYSTEMS[s].label;
  const order = ['ws', 'switchboard', 'sdk', 'socketio', 'peerjs'].filter((s) => opts.systems.includes(s));
  const runsNote = (keys, systems) => {
    const counts = new Set(keys.flatMap((k) => systems.map((s) => runsOf(k, s))).filter((n) => n > 0));
    if (counts.size === 0) return '0';
    return counts.size === 1 ? `${[...counts][0]}` : `${Math.min(...counts)}–${Math.max(...counts)}`;
  };

  const fanoutRows = [];
  for (const [n, m] of opts.fanout) {
    const key = `fanout-${n}`;
    for (const s of order.filter((x) => SYSTEMS[x].scenarios.includes('fanout'))) {
      if (!results[key]?.[s]) continue;
      fanoutRows.push([label(s), n, rate(key, s), `${ms(key, s, 'p50')} / ${ms(key, s, 'p99')}`,
        `${ms(key, s, 'singleP50')} / ${ms(key, s, 'singleP99')}`, med(key, s, 'serverCpuUsPerDelivery'),
        `${Math.round((get(key, s, 'serverBusy')?.median ?? NaN) * 100)} %`]);
    }
  }
  const fanoutTable = markdownTable(
    ['System', { title: 'N', align: 'right' }, { title: 'deliveries/s (min–max)', align: 'right' },
      { title: `p50 / p99 ms, window ${opts.window}`, align: 'right' }, { title: 'p50 / p99 ms, one at a time', align: 'right' },
      { title: 'server CPU µs/delivery', align: 'right' }, { title: 'server busy', align: 'right' }],
    fanoutRows,
  );

  const dmRows = order.filter((s) => SYSTEMS[s].scenarios.includes('dm') && results.dm?.[s])
    .map((s) => [label(s), ms('dm', s, 'p50'), ms('dm', s, 'p99'), med('dm', s, 'serverCpuUsPerRoundTrip')]);
  const dmTable = markdownTable(['System', { title: 'RTT p50 ms', align: 'right' }, { title: 'RTT p99 ms', align: 'right' },
    { title: 'server CPU µs/round trip', align: 'right' }], dmRows);

  const memSystems = order.filter((s) => results.memory?.[s]);
  const memRow = (s) => [label(s), med('memory', s, 'heapKiBPerConn'), med('memory', s, 'rssKiBPerConn'), med('memory', s, 'baseRssMiB')];
  const memColumns = ['System', { title: 'heap+external KiB/conn', align: 'right' }, { title: 'RSS KiB/conn', align: 'right' }, { title: 'idle server RSS MiB', align: 'right' }];
  const memTable = markdownTable(memColumns, memSystems.filter((s) => s !== 'peerjs').map(memRow));

  const sigRows = order.filter((s) => results.signal?.[s])
    .map((s) => [s === 'switchboard' ? 'Switchboard (`rtc` description)' : s === 'peerjs' ? 'PeerJS server (`OFFER`/`ANSWER`)' : label(s),
      ms('signal', s, 'p50'), ms('signal', s, 'p99'), med('signal', s, 'serverCpuUsPerMessage'),
      results.memory?.[s] ? med('memory', s, 'heapKiBPerConn') : '–']);
  const sigTable = markdownTable(
    ['System', { title: 'one-way p50 ms', align: 'right' }, { title: 'one-way p99 ms', align: 'right' },
      { title: 'server CPU µs/message', align: 'right' }, { title: 'heap+external KiB/idle conn', align: 'right' }],
    sigRows,
  );

  const fanoutSystems = order.filter((s) => SYSTEMS[s].scenarios.includes('fanout'));
  const versions = `ws ${versionOf('ws')}, socket.io ${versionOf('socket.io')} + socket.io-client ${versionOf('socket.io-client')} (websocket transport only), peer ${versionOf('peer')}`;
  const load = `load average ${machine.loadAverage.join('/')} at the start${machine.loadAverageEnd ? `, ${machine.loadAverageEnd.join('/')} at the end` : ''}`;
  const env = `${describeMachine(machine)}; ${load} (other engineers' test suites were running on the same 2 cores, so absolute numbers are pessimistic and noisy); ` +
    `commit ${machine.commit}${machine.uncommittedFiles ? ` with ${machine.uncommittedFiles} uncommitted file(s) under packages/*/src in the working tree` : ''}; ${versions}; ${machine.date.slice(0, 10)}${partial ? '; PARTIAL (overall timeout)' : ''}.`;
  const failureText = failures.length
    ? `\n\nFailed measurements (left out of the medians): ${failures.map((f) => `${f.system} ${f.key} run ${f.run + 1}: ${f.error}`).join('; ')}.`
    : '';

  const realtime = `Measured by \`bench/realtime.mjs\`: every system in the same run, each measurement against a fresh server in
its own child process (\`--expose-gc\`), all clients in the parent process (one clock for send and
receipt), 127.0.0.1 only, medians over ${runsNote(scenarioKeysFrom(opts), fanoutSystems)} runs with the systems interleaved.
Switchboard runs its default configuration (tls off, \`logLevel: 'silent'\`) except the per-connection
rate limit, raised from 50 to 10⁶ messages/s so one sender can post faster than 50/s.

Environment: ${env}

**Group broadcast fan-out.** N clients in one group (room); one of them posts M ~${PAYLOAD_BYTES}-byte JSON
messages to the group (${opts.fanout.map(([n, m]) => `N = ${n}: M = ${m}, ${fmt(n * m)} deliveries`).join('; ')}), at most
${opts.window} messages not yet delivered to all N at a time (flow control: nothing is dropped, and every
delivery is counted and checked); every system delivers to the sender too. Latency is receipt time
minus the send time carried in the payload: with the window it includes queueing behind up to
${opts.window}×N deliveries; "one at a time" is a separate phase of ${opts.singleMessages} messages with a window of 1
(the fan-out itself). Server CPU: the server process's user+system time over the windowed phase
divided by its deliveries; "server busy": that CPU time divided by the phase's wall time. A warm-up phase (M/2 messages, so the JIT has settled) precedes the measurements.

${fanoutTable}

**Direct message round trip** (A → B → A, ~${PAYLOAD_BYTES} bytes, one message in flight, ${opts.dmRoundTrips} measured round trips per run after ${opts.warmup} for warm-up; server CPU over the measured ones).
Switchboard: \`post\` to the peer's \`cid:…\`; Socket.IO: \`io.to(socketId).emit\`; ws floor: forward by id.

${dmTable}

**Memory per idle connection**: growth of the server's heap+external and RSS after connecting
${opts.memoryClients} clients (welcomed, in no group), measured after \`gc()\` in the server process, divided by ${opts.memoryClients}.

${memTable}${failureText}

${readings(combined, opts).realtime}`;

  const signaling = `The same run, the same method. A ~4 KB SDP (offer, then the answer back) relayed A → B → A …,
one message in flight, ${opts.signalHops} measured hops per run after ${opts.warmup} for warm-up; one-way latency per hop (receipt minus send, one clock).
Switchboard: an \`rtc\` \`description\` signal inside a call that was invited and accepted (both in one
group), sent with an \`id\` (acked) as the SDK does; PeerJS server (\`peer\` ${versionOf('peer')}): \`OFFER\`/\`ANSWER\`
frames over its websocket protocol (\`/peerjs?key=peerjs&id=…&token=…\`) with the payload the peerjs client
sends; Socket.IO and the ws floor: the same SDP as a direct message. Idle-connection memory as above.

${sigTable}

${readings(combined, opts).signaling}`;

  console.log('\n## Realtime messaging\n');
  console.log(realtime);
  console.log('\n## Signaling relay\n');
  console.log(signaling);
  return { realtime, signaling };
}

function scenarioKeysFrom(opts) {
  return opts.fanout.map(([n]) => `fanout-${n}`);
}

// ====================================================================== reading

/**
 * The paragraph under each section: the comparisons are computed from this run's medians; the
 * explanations come from the server code and CPU profiles (bench/lib/cpuprofile.mjs), which do
 * not change from run to run.
 */
function readings(combined, opts) {
  const m = (key, system, field) => combined[key]?.[system]?.[field]?.median;
  const pct = (a, b) => (a === undefined || b === undefined ? null : Math.round((a / b) * 100));
  const times = (a, b) => (a === undefined || b === undefined ? '?' : fmt(a / b, 2));
  const ms2 = (x) => (x === undefined ? '?' : fmt(x, 2));
  const fanoutKeys = opts.fanout.map(([n]) => [n, `fanout-${n}`]);
  const ratePct = (system) => fanoutKeys.map(([n, k]) => `${pct(m(k, system, 'rate'), m(k, 'ws', 'rate')) ?? '?'} % at N = ${n}`).join(', ');
  const cpu = (system) => fanoutKeys.map(([, k]) => fmt(m(k, system, 'serverCpuUsPerDelivery'), 2)).join(' / ');
  const parts = [];

  const spreadOf = (system) => Math.max(...fanoutKeys.map(([, k]) => {
    const e = combined[k]?.[system]?.rate;
    return e ? e.max / e.min : 1;
  }));
  const worstSpread = Math.max(...['ws', 'switchboard', 'sdk', 'socketio'].map(spreadOf));
  const cpuDelta = (system) => fanoutKeys.map(([, k]) => {
    const d = pct(m(k, system, 'serverCpuUsPerDelivery'), m(k, 'ws', 'serverCpuUsPerDelivery'));
    return d === null ? '?' : `${d - 100 >= 0 ? '+' : ''}${d - 100} %`;
  }).join(' / ');
  const sbBelowFloor = fanoutKeys.every(([, k]) => m(k, 'switchboard', 'serverCpuUsPerDelivery') < m(k, 'ws', 'serverCpuUsPerDelivery'));
  const sdkRate = fanoutKeys.map(([, k]) => pct(m(k, 'sdk', 'rate'), m(k, 'switchboard', 'rate')));
  const busy = fanoutKeys.flatMap(([, k]) => ['ws', 'switchboard', 'sdk', 'socketio'].map((x) => m(k, x, 'serverBusy'))).filter((x) => x !== undefined);
  const busyMin = Math.min(...busy);
  const busyMax = Math.max(...busy);
  parts.push(`**Reading.** Loopback numbers on a busy 2-core machine: the server, all clients and other engineers' test runs shared the cores. ` +
    `*Fan-out:* the steadiest comparison is server CPU per delivery: ${cpu('switchboard')} µs for Switchboard vs ${cpu('ws')} µs for the raw ws floor (${cpuDelta('switchboard')}) and ${cpu('socketio')} µs for Socket.IO (${cpuDelta('socketio')}) at N = ${fanoutKeys.map(([n]) => n).join(' / ')}. ` +
    `${worstSpread > 1.5
      ? `The wall-clock delivery rates were disturbed by that other load (a system's slowest run was up to ${fmt(worstSpread, 2)}× slower than its fastest, see the min–max), so their medians (Switchboard ${ratePct('switchboard')} of the floor's, Socket.IO ${ratePct('socketio')}) do not rank the systems reliably in this run. `
      : `Median delivery rates: Switchboard ${ratePct('switchboard')} of the floor's, Socket.IO ${ratePct('socketio')}. `}` +
    `${busyMax < 0.85
      ? `No server was saturated (busy ${Math.round(busyMin * 100)}–${Math.round(busyMax * 100)} % of the wall time, medians): the rates were bounded by the client process, which hosts all N receivers and parses every delivery, and by the shared cores, more than by the servers. `
      : ''}` +
    `Broadcast cost is dominated by the kernel's \`writev\`: ws writes every frame on its own, so the floor and Socket.IO make one system call per recipient per message (before Switchboard batched its writes, about 60 % of its server's CPU samples were in \`writev\`). ` +
    `Switchboard corks each socket from the first frame it gets in an event-loop tick to the end of that tick (\`Connection.send\`), so everything one socket gets in a tick (with ${opts.window} messages in flight often several broadcasts; for the sender, its own copy and the ack) leaves in one \`writev\`; ` +
    `${sbBelowFloor
      ? `that is why it spends less CPU per delivery than the floor here, which is a floor for unbatched writes only (an experiment that corked the floor's sockets the same way brought it to a similar ~3–4 µs per delivery; the floor and Socket.IO are measured as they ship). `
      : `that saving is set against its own per-message work (below), which the floor does not do. `}` +
    `Switchboard's per-message work (JSON parse and valibot validation of the \`post\`, a store lookup of the sender's group, one JSON.stringify shared by all recipients, the ack to the sender) is paid once per message and spread over N deliveries, and its own per-recipient code (delivery lookup, a metrics counter, the cork, the slow-consumer check) is a few per cent of the samples. ` +
    `With the Node SDK as the client the server does the same work (${cpu('sdk')} µs per delivery); ` +
    `${worstSpread <= 1.5 && sdkRate.some((r) => r !== null && r < 85)
      ? `its delivery rate was ${sdkRate.map((r) => `${r ?? '?'} %`).join(' / ')} of the wire client's where the SDK was the bottleneck: it decodes and validates every incoming frame against the protocol schemas, and here one process hosts all N receivers (in an app each receiver has its own).`
      : `its delivery rate was ${sdkRate.map((r) => `${r ?? '?'} %`).join(' / ')} of the wire client's, within the noise of this run; the SDK's extra work (decoding and validating every incoming frame against the protocol schemas) is client CPU, which this table does not show.`}`);
  const dmCpu = (system) => m('dm', system, 'serverCpuUsPerRoundTrip');
  const dmCpuRatio = dmCpu('switchboard') / dmCpu('ws');
  parts.push(`*Direct messages:* the round trip p50 was ${ms2(m('dm', 'switchboard', 'p50'))} ms for Switchboard (wire) vs ${ms2(m('dm', 'ws', 'p50'))} ms for the floor and ${ms2(m('dm', 'socketio', 'p50'))} ms for Socket.IO, ` +
    `and the server spent ${fmt(dmCpu('switchboard'), 3)} µs of CPU per round trip vs ${fmt(dmCpu('ws'), 3)} µs (floor) and ${fmt(dmCpu('socketio'), 3)} µs (Socket.IO). ` +
    `${dmCpuRatio > 1.15 ? `This is where Switchboard is slower (${fmt(dmCpuRatio, 2)}× the floor's CPU), because nothing is amortized over recipients` : 'Switchboard does more per message here, because nothing is amortized over recipients'}: ` +
    `every post is parsed and schema-validated, the sender's and the target's connections are looked up through the async \`Store\` interface (promise hops, record copies), the frame is re-serialized with the sender fields, and the sender gets an ack, a second frame and a second \`writev\` per message that the floor and Socket.IO (no acknowledgements) do not send. ` +
    `In latency that is ${fmt(m('dm', 'switchboard', 'p50') - m('dm', 'ws', 'p50'), 2)} ms per round trip at p50 over the floor on loopback; p99s are dominated by scheduling on the shared cores. The SDK client (validation on both ends, promise-based requests) measured ${ms2(m('dm', 'sdk', 'p50'))} ms.`);
  parts.push(`*Memory:* an idle Switchboard connection cost ${fmt(m('memory', 'switchboard', 'heapKiBPerConn'), 2)} KiB of heap+external (${fmt(m('memory', 'switchboard', 'rssKiBPerConn'), 2)} KiB RSS) vs ${fmt(m('memory', 'ws', 'heapKiBPerConn'), 2)} KiB (${fmt(m('memory', 'ws', 'rssKiBPerConn'), 2)} KiB RSS) for the bare ws floor and ${fmt(m('memory', 'socketio', 'heapKiBPerConn'), 2)} KiB (${fmt(m('memory', 'socketio', 'rssKiBPerConn'), 2)} KiB RSS) for Socket.IO: ` +
    `on top of the ws socket it keeps a \`Connection\` (token bucket, violation window, a token-expiry timer, a promise queue), a store record (copied user), a delivery entry and a heartbeat entry. RSS per connection is noisier than heap (allocator pages).`);
  const realtime = parts.join('\n\n');

  const sig = (system, field) => m('signal', system, field);
  const signaling = `**Reading.** Relaying a ~4 KB SDP, Switchboard's one-way p50 was ${ms2(sig('switchboard', 'p50'))} ms vs ${ms2(sig('peerjs', 'p50'))} ms for the PeerJS server ` +
    `(${ms2(sig('ws', 'p50'))} ms for the floor, ${ms2(sig('socketio', 'p50'))} ms for Socket.IO), and it used ${fmt(sig('switchboard', 'serverCpuUsPerMessage'), 3)} µs of server CPU per relayed message vs ${fmt(sig('peerjs', 'serverCpuUsPerMessage'), 3)} µs for PeerJS (${fmt(sig('switchboard', 'serverCpuUsPerMessage') / sig('peerjs', 'serverCpuUsPerMessage'), 2)}×) and ${fmt(sig('ws', 'serverCpuUsPerMessage'), 3)} µs for the floor. ` +
    `All of these are far below what a person notices or what ICE gathering takes; where Switchboard costs more it is per-message work. PeerJS parses the frame, sets \`src\` and re-stringifies it; Switchboard does that too but also validates the whole signal against the protocol schema (SDP ≤ 64 KiB, call id, signal kind), checks that the two connections may signal each other (two store lookups and, when they share no group, the call registry), tracks call state, and acks the sender (a second frame and syscall per signal: the SDK uses the ack to learn at once that a peer is gone). ` +
    `In a side experiment, sending the signals without an \`id\` (no ack) saved only ~10 % of Switchboard's server CPU; the profile puts the rest in decoding plus schema validation (~14 µs per 4 KB signal), re-encoding (~10 µs) and the promise-based handler (store and call-registry lookups). ` +
    `Per idle connection the PeerJS server holds ${fmt(m('memory', 'peerjs', 'heapKiBPerConn'), 2)} KiB of heap+external vs Switchboard's ${fmt(m('memory', 'switchboard', 'heapKiBPerConn'), 2)} KiB (see the memory table above). ` +
    `Timings at this size are dominated by loopback syscalls and scheduling on the shared cores, so p99s in particular move from run to run.`;
  return { realtime, signaling };
}

// ====================================================================== entry (last: every const above is initialized)

if (process.argv[2] === '--serve') {
  await serve(process.argv[3]);
} else {
  await main();
}
