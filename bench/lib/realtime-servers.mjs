/**
 * Both sides of a realtime benchmark server child: serve() runs in the child (one server of one
 * kind per process, so memory and CPU figures belong to that server alone), ServerChild is the
 * parent's handle on it. The IPC messages between them (ready, mem, cpu, stop) live in this file only.
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import { WebSocketServer } from 'ws';
import { deferred, tick, withTimeout } from './async.mjs';
import { HOST, ROOT } from './realtime-systems.mjs';

/** Runs one server in this (child) process and answers the parent's requests over IPC. */
export async function serve(kind) {
  const maxLifeMs = Number(process.env.BENCH_CHILD_MAX_MS ?? 300_000);
  setTimeout(() => process.exit(3), maxLifeMs).unref();
  process.on('disconnect', () => process.exit(0)); // the parent went away: stop by ourselves
  // --pin (realtime.mjs): this server, its GC and I/O threads included, on a core of its own.
  if (process.env.BENCH_SERVER_CPU) execFileSync('taskset', ['-a', '-p', '-c', process.env.BENCH_SERVER_CPU, String(process.pid)], { stdio: 'ignore' });
  let cleanup = () => {};
  let info;
  let probe = null;

  if (kind === 'switchboard') {
    const { createServer } = await import('@switchboard/server');
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-'));
    cleanup = () => rmSync(dataDir, { recursive: true, force: true });
    const server = createServer({
      tls: { mode: 'off' },
      dataDir,
      logLevel: 'silent',
      auth: { secrets: [process.env.BENCH_SECRET] },
      // The default 50 messages/s per connection would cap one sender at 50 posts/s; every client
      // connects from loopback, so the per-address connection limit (default 50) is off.
      limits: { messagesPerSecond: 1_000_000, messageBurst: 1_000_000, maxConnectionsPerAddress: 0, guestTokensPerMinute: 0 },
      // --resume-window MS (realtime.mjs): 0 turns resume off, to see what its buffer costs.
      ...(process.env.BENCH_RESUME_WINDOW_MS ? { resume: { windowMs: Number(process.env.BENCH_RESUME_WINDOW_MS) } } : {}),
      // --ack-delay MS (realtime.mjs): how long a signal's ack may wait for another frame to share its write.
      ...(process.env.BENCH_ACK_DELAY_MS ? { rtc: { ackDelayMs: Number(process.env.BENCH_ACK_DELAY_MS) } } : {}),
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
      // concurrent_limit: its default (5,000) would refuse the idle benchmark's connections.
      PeerServer({ port: 0, host: HOST, path: '/', concurrent_limit: 20_000 }, (server) => resolve(server.address().port));
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
    } else if (msg.cmd === 'probe-start') {
      probe = startProbe();
      process.send({ reply: msg.seq, value: true });
    } else if (msg.cmd === 'probe-stop') {
      process.send({ reply: msg.seq, value: probe?.stop() ?? null });
      probe = null;
    } else if (msg.cmd === 'stop') {
      cleanup();
      process.exit(0); // --cpu-prof profiles are written on exit
    }
  });
  process.send({ ready: true, info });
}

/**
 * What a measured phase cost the server: CPU (user and system), the event loop's longest stall
 * (monitorEventLoopDelay at 1 ms resolution: the most a timer fired late, so a stall of a handler,
 * a GC pause or a burst) and the bytes allocated on the V8 heap (GCProfiler: the heap's growth plus
 * what each GC freed). Buffers larger than 4 KB live outside the V8 heap and are not counted.
 */
function startProbe() {
  const cpu0 = process.cpuUsage();
  const io0 = syscallCounts();
  const heap0 = v8.getHeapStatistics().used_heap_size;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const gc = new v8.GCProfiler();
  gc.start();
  return {
    stop() {
      const cpu = process.cpuUsage(cpu0);
      const io1 = syscallCounts();
      delay.disable();
      const heap1 = v8.getHeapStatistics().used_heap_size;
      const { statistics } = gc.stop();
      let freed = 0;
      for (const s of statistics) freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
      return {
        userUs: cpu.user,
        systemUs: cpu.system,
        readCalls: io0 && io1 ? io1.reads - io0.reads : undefined,
        writeCalls: io0 && io1 ? io1.writes - io0.writes : undefined,
        // The histogram's values are ns of delay beyond the 1 ms resolution.
        stallMaxMs: delay.max / 1e6,
        stallP99Ms: delay.percentile(99) / 1e6,
        allocatedBytes: heap1 - heap0 + freed,
        gcs: statistics.length,
        gcPauseMaxMs: statistics.reduce((m, s) => Math.max(m, s.cost / 1000), 0),
        // Main-thread GC time by kind (Scavenge, MarkSweepCompact, IncrementalMarking …): count and total ms.
        gcByKind: statistics.reduce((byKind, s) => {
          const kind = (byKind[s.gcType] ??= { count: 0, ms: 0 });
          kind.count += 1;
          kind.ms += s.cost / 1000;
          return byKind;
        }, {}),
      };
    },
  };
}

/**
 * The process's read and write system calls so far (Linux: /proc/self/io's syscr and syscw, which
 * count readv/writev too); undefined elsewhere. A socket write is the costly part of a relayed
 * message on loopback, where the sender's system call also runs the receiver's TCP input.
 */
function syscallCounts() {
  try {
    const io = readFileSync('/proc/self/io', 'utf8');
    return { reads: Number(/^syscr: (\d+)/m.exec(io)[1]), writes: Number(/^syscw: (\d+)/m.exec(io)[1]) };
  } catch {
    return undefined;
  }
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

/** Children not yet exited, so an overall timeout or Ctrl-C can kill them all. */
const children = new Set();

export function killServerChildren() {
  for (const child of children) child.kill();
}

/**
 * The parent's handle on one server child: start, the `mem`/`cpu` requests that serve() answers,
 * stop. `script` is the benchmark's entry, which runs serve() when given `--serve <kind>`; it is
 * passed in because only the entry knows its own path.
 */
export class ServerChild {
  static async start(kind, { script, secret, cpuProfDir }) {
    const execArgv = ['--expose-gc'];
    if (cpuProfDir) execArgv.push('--cpu-prof', '--cpu-prof-dir', cpuProfDir);
    const proc = fork(script, ['--serve', kind], {
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

  /** Starts measuring a phase in the server (see startProbe); probeStop() returns the figures. */
  probeStart() {
    return this.rpc('probe-start');
  }

  probeStop() {
    return this.rpc('probe-stop');
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
