/**
 * The real Switchboard server, in-process on 127.0.0.1 (plain HTTP), for the
 * SDK suites. Attached to our own http.Server so a test can drop every TCP
 * socket from the server side (`dropAll`), or restart on the same port.
 */
import { createHmac } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createServer, type SwitchboardConfigInput, type SwitchboardServer } from '@switchboard/server';

export const SECRET = 'client-suite-secret-0123456789abcdef';

export interface TestServer {
  url: string;
  port: number;
  server: SwitchboardServer;
  token(user_id: string, name?: string): Promise<string>;
  /** A genuine token (right secret) whose `exp` is in the past. */
  expiredToken(user_id: string): string;
  /** Destroys every TCP socket from the server side (no close frame: the client sees 1006). */
  dropAll(): void;
  /** The same for the realtime sockets of one user (by the token in their upgrade); returns how many. */
  dropUser(user_id: string): number;
  /** Graceful shutdown (4000 SERVER_SHUTDOWN to every client), then the port is released. */
  close(): Promise<void>;
}

export async function startServer(config: SwitchboardConfigInput = {}, port = 0): Promise<TestServer> {
  const server = createServer({
    logLevel: 'silent',
    tls: { mode: 'off' },
    auth: { secrets: [SECRET] },
    dataDir: '/tmp/switchboard-client-tests',
    ...config,
  });
  const http: Server = createHttpServer();
  const sockets = new Set<Socket>();
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const owners = new WeakMap<object, string>();
  http.on('upgrade', (req, socket) => {
    const bearer = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(/,\s*/)
      .find((p) => p.startsWith('bearer.'));
    const payload = bearer?.slice('bearer.'.length).split('.')[1];
    if (!payload) return;
    try {
      owners.set(socket, String((JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub?: unknown }).sub));
    } catch {
      // not a JWT: not ours to track
    }
  });
  server.attach(http);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (http.address() as AddressInfo).port;
  let closed: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    server,
    token: (user_id, name) => server.issueToken({ user_id, ...(name === undefined ? {} : { name }) }),
    expiredToken: (user_id) => signHs256({ sub: user_id, iat: now() - 120, exp: now() - 60 }, SECRET),
    dropAll: () => {
      for (const socket of sockets) socket.destroy();
    },
    dropUser: (user_id) => {
      let dropped = 0;
      for (const socket of sockets) {
        if (owners.get(socket) !== user_id) continue;
        socket.destroy();
        dropped += 1;
      }
      return dropped;
    },
    close: () =>
      (closed ??= (async () => {
        await server.close();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
      })()),
  };
}

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function signHs256(payload: Record<string, unknown>, secret: string): string {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/** Polls a condition on the server side (connection counts), bounded in time. */
export async function until(check: () => boolean, timeoutMs = 5_000, label = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
