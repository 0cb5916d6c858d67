import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createMemoryStore, createServer, type Store } from '../src/index.js';
import { expectRejected, join, LOG_LEVEL, SECRET, startServer, TestClient, useCleanup } from './helpers.js';

useCleanup();

describe('attach(httpServer) and shutdown', () => {
  it('serves on an existing http.Server, answers 503 SERVER_UNAVAILABLE while shutting down, leaves that server running', async () => {
    const http = createHttpServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as AddressInfo).port;
    const server = createServer({ auth: { secrets: [SECRET] }, logLevel: LOG_LEVEL, tls: { mode: 'off' } });
    server.attach(http);
    const realtime = `ws://127.0.0.1:${port}/v1/realtime`;
    try {
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const a = await TestClient.open(realtime, { token: await server.issueToken({ user_id: 'alice' }) });
      await a.welcome;
      // Hold back the close handshake so the shutdown stays in progress.
      const socket = (a.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      const closing = server.close();
      const rejected = await expectRejected(realtime, { token: await server.issueToken({ user_id: 'bob' }) });
      expect(rejected).toMatchObject({ status: 503, body: { code: 'SERVER_UNAVAILABLE' } });
      socket.resume();
      expect((await a.closed).code).toBe(4000);
      await closing;
      expect(http.listening).toBe(true); // not ours to close
    } finally {
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it('close() is idempotent', async () => {
    const t = await startServer();
    await Promise.all([t.server.close(), t.server.close()]);
    await t.server.close();
  });
});

describe('unexpected failures', () => {
  it('answer INTERNAL to the request and keep the connection', async () => {
    const memory = createMemoryStore();
    const store: Store = { ...memory, listGroups: async () => Promise.reject(new Error('boom')) };
    const t = await startServer({}, { store });
    const a = await t.connect('alice');
    const reply = await a.request({ type: 'list_groups', searchFor: 'group', value: ' ' });
    expect(reply).toEqual({ type: 'error', id: reply.id, code: 'INTERNAL', message: 'Internal server error.' });
    expect((await join(a, 'room')).result).toEqual({ group: 'room' });
  });
});
