/**
 * Counts the writes on the server's side of each test connection (net.Socket#_write/_writev,
 * which TLSSocket inherits), told apart from the clients' sockets (same process) by port.
 * Restore with vi.restoreAllMocks().
 */
import { Socket } from 'node:net';
import { vi } from 'vitest';
import type { WebSocket } from 'ws';
import { TestClient } from './helpers.js';

export interface ServerSide {
  /** write calls (_write + _writev) on the server's socket to this client. */
  writes: number;
  /** Frames' chunks handed to those calls. */
  chunks: number;
  /** The server's socket to this client, once it was corked or written. */
  socket: Socket | null;
}

/** Counts the server-side socket writes to each client (keyed by the client's local port). */
export function watchServerSockets(serverPort: number) {
  const byClientPort = new Map<number, ServerSide>();
  const entry = (socket: Socket): ServerSide | null => {
    if (socket.localPort !== serverPort || socket.remotePort === undefined) return null;
    let side = byClientPort.get(socket.remotePort);
    if (!side) byClientPort.set(socket.remotePort, (side = { writes: 0, chunks: 0, socket }));
    return side;
  };
  const proto = Socket.prototype as unknown as {
    _write(chunk: unknown, encoding: string, cb: () => void): void;
    _writev(chunks: unknown[], cb: () => void): void;
    cork(): void;
  };
  const write = proto._write;
  const writev = proto._writev;
  const cork = proto.cork;
  vi.spyOn(proto, '_write').mockImplementation(function (this: Socket, chunk, encoding, cb) {
    const side = entry(this);
    if (side) {
      side.writes += 1;
      side.chunks += 1;
    }
    return write.call(this, chunk, encoding, cb);
  });
  vi.spyOn(proto, '_writev').mockImplementation(function (this: Socket, chunks, cb) {
    const side = entry(this);
    if (side) {
      side.writes += 1;
      side.chunks += chunks.length;
    }
    return writev.call(this, chunks, cb);
  });
  vi.spyOn(proto, 'cork').mockImplementation(function (this: Socket) {
    entry(this);
    return cork.call(this);
  });
  const of = (client: TestClient | WebSocket): ServerSide => {
    const ws = client instanceof TestClient ? client.ws : client;
    const port = (ws as unknown as { _socket: Socket })._socket.localPort!;
    let side = byClientPort.get(port);
    if (!side) byClientPort.set(port, (side = { writes: 0, chunks: 0, socket: null }));
    return side;
  };
  return { of };
}
