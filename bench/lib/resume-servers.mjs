/**
 * The server children of bench/resume.mjs: Switchboard (session resume, its defaults) or
 * Socket.IO 4.8 with connection-state recovery, each on its own http.Server in its own process.
 * Both answer `drop:<user>` over IPC by destroying that user's TCP sockets from the server side
 * (no close frame, no engine.io close packet: the client sees the connection die, as in a network
 * blip). The parent's handle is realtime-servers.mjs's ServerChild (same ready/rpc/stop messages).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { HOST } from './realtime-systems.mjs';

/** Socket.IO keeps missed room broadcasts this long; Switchboard's resume window is the same by default. */
export const RECOVERY_WINDOW_MS = 30_000;

/** Who opened an upgrade: Switchboard's JWT (bearer subprotocol) or Socket.IO's `?u=` query. */
function ownerOf(req) {
  const query = new URL(req.url ?? '/', 'http://x').searchParams.get('u');
  if (query) return query;
  const bearer = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(/,\s*/)
    .find((p) => p.startsWith('bearer.'));
  const payload = bearer?.slice('bearer.'.length).split('.')[1];
  if (!payload) return null;
  try {
    return String(JSON.parse(Buffer.from(payload, 'base64url').toString()).sub);
  } catch {
    return null;
  }
}

export async function serveResume(kind) {
  setTimeout(() => process.exit(3), Number(process.env.BENCH_CHILD_MAX_MS ?? 300_000)).unref();
  process.on('disconnect', () => process.exit(0)); // the parent went away: stop by ourselves
  const http = createHttpServer();
  const owners = new Map(); // TCP socket → user
  http.on('upgrade', (req, socket) => {
    const user = ownerOf(req);
    if (user === null) return;
    owners.set(socket, user);
    socket.once('close', () => owners.delete(socket));
  });
  let cleanup = () => {};

  if (kind === 'switchboard') {
    const { createServer } = await import('@switchboard/server');
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-resume-'));
    cleanup = () => rmSync(dataDir, { recursive: true, force: true });
    const server = createServer({
      tls: { mode: 'off' },
      dataDir,
      logLevel: 'silent',
      auth: { secrets: [process.env.BENCH_SECRET] },
      // All clients share 127.0.0.1: the per-address limits a public server keeps are lifted.
      // Resume itself runs with its defaults (30 s window, 1000 frames / 1 MiB per connection).
      limits: { maxConnectionsPerAddress: 0, guestTokensPerMinute: 0 },
    });
    server.attach(http);
    await server.ready();
  } else if (kind === 'socketio') {
    const { Server } = await import('socket.io');
    const io = new Server(http, {
      serveClient: false,
      transports: ['websocket'],
      connectionStateRecovery: { maxDisconnectionDuration: RECOVERY_WINDOW_MS, skipMiddlewares: true },
    });
    io.on('connection', (socket) => {
      socket.on('join', (room, ack) => {
        socket.join(room);
        if (typeof ack === 'function') ack();
      });
      // A room broadcast (the sender included, as Switchboard does): what recovery replays.
      socket.on('post', (room, message, ack) => {
        io.to(room).emit('message', message);
        if (typeof ack === 'function') ack();
      });
    });
  } else {
    throw new Error(`unknown server kind ${kind}`);
  }

  await new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, HOST, resolve);
  });
  const { port } = http.address();

  process.on('message', (msg) => {
    if (typeof msg.cmd === 'string' && msg.cmd.startsWith('drop:')) {
      const user = msg.cmd.slice('drop:'.length);
      let dropped = 0;
      for (const [socket, owner] of owners) {
        if (owner !== user) continue;
        socket.destroy();
        dropped += 1;
      }
      process.send({ reply: msg.seq, value: dropped });
    } else if (msg.cmd === 'stop') {
      cleanup();
      process.exit(0);
    }
  });
  process.send({ ready: true, info: { port, url: `http://${HOST}:${port}` } });
}
