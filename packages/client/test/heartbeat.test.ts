/**
 * Heartbeat death detection against a raw `ws` server that welcomes the client
 * and then never answers anything (no pong, no frames): the SDK must notice
 * within two heartbeat intervals, drop the socket and reconnect.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { DEFAULT_LIMITS, SUBPROTOCOL } from '@switchboard/protocol';
import { Switchboard } from '../src/node/index.js';
import { Recorder } from './recorder.js';

interface Silent {
  url: string;
  connections: WebSocket[];
  protocols: string[][];
  pings: number;
  connected: (count: number) => Promise<void>;
  close(): Promise<void>;
}

async function silentServer(heartbeatMs: number): Promise<Silent> {
  const http: Server = createServer();
  const wss = new WebSocketServer({ server: http, handleProtocols: (set) => (set.has(SUBPROTOCOL) ? SUBPROTOCOL : false) });
  const state: Silent = {
    url: '',
    connections: [],
    protocols: [],
    pings: 0,
    connected: (count) =>
      new Promise((resolve) => {
        const check = () => (state.connections.length >= count ? resolve() : setTimeout(check, 5));
        check();
      }),
    close: async () => {
      for (const socket of state.connections) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  wss.on('connection', (socket, request) => {
    state.connections.push(socket);
    state.protocols.push(String(request.headers['sec-websocket-protocol']).split(/,\s*/));
    const n = state.connections.length;
    socket.send(
      JSON.stringify({
        type: 'welcome',
        cid: `cid:raw-${n}`,
        user: { user_id: 'raw-user', name: null },
        limits: { ...DEFAULT_LIMITS, heartbeatMs },
        iceServers: [],
        iceExpiresAt: null,
        node: 'raw',
      }),
    );
    socket.on('message', (data) => {
      if (String(data).includes('"ping"')) state.pings += 1; // …and never answer.
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return state;
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('heartbeat', () => {
  it('detects a silent server within two intervals, then reconnects', async () => {
    const heartbeatMs = 150;
    const server = await silentServer(heartbeatMs);
    cleanup.push(() => server.close());
    const client = new Switchboard({ url: server.url, token: 'header.payload.signature', reconnect: { baseDelayMs: 10, maxDelayMs: 20 } });
    cleanup.push(() => client.closeRealtime());
    const events = new Recorder();

    const welcomedAt = Date.now();
    const connected = await client.connectRealtime(events.cb);
    expect(connected).toEqual({ cid: 'cid:raw-1', user: { user_id: 'raw-user', name: null } });
    expect(server.protocols[0]).toEqual([SUBPROTOCOL, 'bearer.header.payload.signature']);

    const unexpected = await events.waitFor((e) => e.type === 'error' && e.message === 'Skapi: WebSocket unexpected close.');
    const detectedAfter = Date.now() - welcomedAt;
    expect(detectedAfter).toBeGreaterThanOrEqual(2 * heartbeatMs - 20);
    expect(detectedAfter).toBeLessThan(2 * heartbeatMs + 1_000);
    expect(unexpected).toMatchObject({ closeCode: 1006 });
    expect(server.pings).toBeGreaterThanOrEqual(1);

    const reconnect = await events.waitFor((e) => e.type === 'reconnect');
    expect(reconnect).toMatchObject({ message: 'Reconnecting to WebSocket server...1', attempt: 1 });
    await server.connected(2);
    await events.waitFor((e) => e.type === 'success', events.events.indexOf(reconnect));
    expect(client.cid).toBe('cid:raw-2');
    expect(events.of('success')).toHaveLength(2);
  });

  it('a server that keeps answering is not declared dead', async () => {
    const heartbeatMs = 50;
    const server = await silentServer(heartbeatMs);
    cleanup.push(() => server.close());
    const client = new Switchboard({ url: server.url, token: 'a.b.c' });
    cleanup.push(() => client.closeRealtime());
    const events = new Recorder();
    await client.connectRealtime(events.cb);
    const socket = server.connections[0]!;
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string; ts?: number };
      if (frame.type === 'ping') socket.send(JSON.stringify({ type: 'pong', ts: frame.ts }));
    });
    // Ten intervals of pings and pongs, measured by the server's ping count (no fixed sleep).
    await new Promise<void>((resolve) => {
      const check = () => (server.pings >= 10 ? resolve() : setTimeout(check, 10));
      check();
    });
    expect(events.of('error')).toHaveLength(0);
    expect(server.connections).toHaveLength(1);
  });
});

describe('requests against a server that never answers', () => {
  it('reject with TIMEOUT after requestTimeoutMs', async () => {
    const server = await silentServer(60_000);
    cleanup.push(() => server.close());
    const client = new Switchboard({ url: server.url, token: 'a.b.c', requestTimeoutMs: 100 });
    cleanup.push(() => client.closeRealtime());
    await client.connectRealtime(() => undefined);
    const started = Date.now();
    await expect(client.joinRealtime({ group: 'void' })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('requests on the wire when the socket dies reject with CONNECTION_CLOSED', async () => {
    const server = await silentServer(60_000);
    cleanup.push(() => server.close());
    const client = new Switchboard({ url: server.url, token: 'a.b.c', reconnect: { baseDelayMs: 10, maxDelayMs: 20 } });
    cleanup.push(() => client.closeRealtime());
    await client.connectRealtime(() => undefined);
    const posted = client.postRealtime('lost?', 'someone');
    const socket = server.connections[0]!;
    await new Promise<void>((resolve) => socket.once('message', () => resolve())); // the post reached the server
    socket.terminate();
    await expect(posted).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
  });
});
