/**
 * The two clients of bench/resume.mjs with one shape: the Switchboard Node SDK (session resume,
 * its default reconnect policy) and socket.io-client 4.8 (connection-state recovery; `retries`
 * and `ackTimeout` so a post whose ack was lost is sent again, Socket.IO's at-least-once). Both
 * record every reconnect (when the attempt that succeeded started, when it was connected again,
 * whether the state came back) and hand every message to `onMessage`.
 *
 * Shape: { user, group, up, kills, away, reconnects, recovered, handshakeMs, onMessage, connect(), post(msg),
 * killClientSide(), close() }. `away` is the current or last outage: { killedAt, attemptAt,
 * connectedAt } (performance.now()).
 */
import { performance } from 'node:perf_hooks';
import { withTimeout } from './async.mjs';

function baseClient(user, group) {
  return { user, group, up: false, kills: 0, away: null, reconnects: 0, recovered: 0, handshakeMs: [], onMessage: null };
}

/** Connected again: the outage ends; how long the attempt that succeeded took. */
function markConnected(c) {
  c.reconnects += 1;
  if (!c.away) return;
  c.away.connectedAt = performance.now();
  if (c.away.attemptAt !== null) c.handshakeMs.push(c.away.connectedAt - c.away.attemptAt);
}

/** The moment we kill the socket: the outage starts (the SDK or Socket.IO notices next). */
export function markKilled(c) {
  c.up = false;
  c.kills += 1;
  c.away = { killedAt: performance.now(), attemptAt: null, connectedAt: null };
}

export async function switchboardClient({ url, token, user, group }) {
  const { Switchboard, nodePlatform } = await import('@switchboard/client/node');
  const c = baseClient(user, group);
  let socket = null;
  const Base = nodePlatform().WebSocket;
  // The SDK's sockets, watched: the live one (to kill it client-side) and when each attempt starts.
  const Watched = class extends Base {
    constructor(target, protocols) {
      super(target, protocols);
      socket = this;
      if (c.away) c.away.attemptAt = performance.now();
    }
  };
  const sb = new Switchboard({ url, token, platform: { WebSocket: Watched } });
  await sb.connectRealtime((event) => {
    if (event.type === 'message') c.onMessage?.(event.message);
    else if (event.type === 'reconnect' && 'resumed' in event) {
      markConnected(c);
      if (event.resumed) c.recovered += 1;
      c.up = true;
    } else if (event.type === 'error' && event.closeCode !== undefined) c.up = false;
  });
  await sb.joinRealtime({ group });
  c.up = true;
  c.post = (message) => sb.postRealtime(message, group);
  c.killClientSide = () => socket?.terminate();
  c.isOpen = () => socket?.readyState === 1;
  c.close = () => sb.closeRealtime();
  return c;
}

export async function socketioClient({ url, user, group }) {
  const { io } = await import('socket.io-client');
  const c = baseClient(user, group);
  const socket = io(url, {
    transports: ['websocket'],
    forceNew: true,
    query: { u: user },
    // At least once on the way up: an emit without its ack within 5 s is sent again (3 times).
    retries: 3,
    ackTimeout: 5_000,
  });
  socket.io.on('reconnect_attempt', () => {
    if (c.away) c.away.attemptAt = performance.now();
  });
  socket.on('message', (message) => c.onMessage?.(message));
  socket.on('disconnect', () => (c.up = false));
  let first = true;
  const joined = new Promise((resolve) => {
    socket.on('connect', () => {
      if (first) {
        first = false;
        socket.emit('join', group, resolve);
        return;
      }
      markConnected(c);
      if (socket.recovered) {
        c.recovered += 1;
        c.up = true;
      } else {
        // Not recovered: a new session, out of the room; an app re-joins (what it missed is gone).
        socket.emit('join', group, () => (c.up = true));
      }
    });
  });
  await withTimeout(joined, 20_000, `socket.io ${user} join`);
  c.up = true;
  c.post = (message) => socket.emitWithAck('post', group, message);
  // engine.io's websocket transport in Node holds a `ws` WebSocket: terminate it under the client.
  c.killClientSide = () => socket.io.engine?.transport?.ws?.terminate();
  c.isOpen = () => socket.connected && socket.io.engine?.transport?.ws?.readyState === 1;
  c.close = async () => {
    socket.disconnect();
  };
  return c;
}
