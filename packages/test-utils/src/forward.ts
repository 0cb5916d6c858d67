/**
 * Makes a TCP server of the host namespace reachable inside a namespace: a small Node forwarder
 * inside the namespace listens on `listenHost:port` (default 127.0.0.1, the same port number)
 * and tunnels every connection through a Unix socket (file-system sockets cross namespaces) to
 * `host:port` here. So a Chromium in a loopback-only namespace can open
 * `http://127.0.0.1:<port>` (a secure context) and its WebSocket, served by a server started in
 * the test process. HTTP, WebSocket, anything TCP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from './netns.js';
import { startProcess, type ManagedProcess } from './processes.js';

export interface Forward {
  /** The port to use inside the namespace. */
  port: number;
  /** `http://<listenHost>:<port>` */
  origin: string;
  close(): Promise<void>;
}

const INSIDE = `
const net = require('node:net');
const [port, host, path] = process.argv.slice(1);
const server = net.createServer((inbound) => {
  const outbound = net.connect(path);
  inbound.pipe(outbound).pipe(inbound);
  const kill = () => { inbound.destroy(); outbound.destroy(); };
  inbound.on('error', kill); outbound.on('error', kill);
});
server.listen(Number(port), host, () => console.log('forwarding ' + host + ':' + port));
process.on('SIGTERM', () => process.exit(0));
`;

function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b).pipe(a);
  const kill = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', kill);
  b.on('error', kill);
}

export async function forwardIntoNetns(
  netns: Netns | string,
  port: number,
  options: { host?: string; listenPort?: number; listenHost?: string } = {},
): Promise<Forward> {
  const host = options.host ?? '127.0.0.1';
  const listenPort = options.listenPort ?? port;
  const listenHost = options.listenHost ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'sb-fwd-'));
  const path = join(dir, 'sock');
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect({ host, port });
    sockets.add(inbound).add(outbound);
    inbound.on('close', () => sockets.delete(inbound));
    outbound.on('close', () => sockets.delete(outbound));
    pipeBoth(inbound, outbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  let inside: ManagedProcess;
  try {
    inside = await startProcess(process.execPath, ['-e', INSIDE, String(listenPort), listenHost, path], {
      name: `forward:${listenPort}`,
      netns,
      waitForLine: /^forwarding /,
    });
  } catch (err) {
    server.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let closing: Promise<void> | null = null;
  return {
    port: listenPort,
    origin: `http://${listenHost}:${listenPort}`,
    close() {
      closing ??= (async () => {
        await inside.stop();
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        rmSync(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
