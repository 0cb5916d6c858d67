/**
 * Clients of bench/cluster.mjs, one shape for both systems: connect(port, userId, onMessage) →
 * { join(group), post(group, message), close() }. `onMessage` gets each group message's payload.
 * Switchboard: the raw wire (ws, JSON frames, request ids and acks); Socket.IO: socket.io-client
 * over WebSocket only, events with ack callbacks.
 */
import WebSocket from 'ws';
import { io as ioClient } from 'socket.io-client';
import { REALTIME_PATH, SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '@switchboard/protocol';
import { signToken } from '@switchboard/server';

export async function connectSwitchboard(port, userId, secret, onMessage) {
  const token = await signToken([secret], { user_id: userId, ttlSeconds: 3600 });
  const pending = new Map();
  let next = 1;
  let closing = false;
  const ws = await new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${REALTIME_PATH}`, [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${token}`]);
    socket.once('error', reject);
    socket.once('close', (code) => {
      if (!closing) console.log(`a client's socket closed: ${code}`);
    });
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === 'welcome') resolve(socket);
      else if (frame.type === 'message') onMessage(frame.message);
      else if (frame.type === 'ack' || frame.type === 'error') {
        const p = pending.get(frame.id);
        pending.delete(frame.id);
        if (frame.type === 'ack') p?.resolve(frame.result);
        else if (p) p.reject(new Error(`${frame.code}: ${frame.message}`));
        else throw new Error(`server error: ${frame.code}: ${frame.message}`);
      }
    });
  });
  const request = (frame) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ ...frame, id }));
    });
  return {
    join: (group) => request({ type: 'join', group }),
    // Flow control counts deliveries, not acks; a refused post is reported so it is not waited for.
    post: (group, message, onRefused) =>
      void request({ type: 'post', to: group, message }).catch((err) => {
        console.error(err.message);
        onRefused?.();
      }),
    close: () => {
      closing = true;
      ws.terminate();
    },
  };
}

export async function connectSocketIO(port, userId, _secret, onMessage) {
  const socket = ioClient(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, query: { user: userId } });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  socket.on('message', onMessage);
  return {
    join: (group) => new Promise((resolve) => socket.emit('join', group, resolve)),
    post: (group, message) => socket.emit('post', group, message, () => {}),
    close: () => socket.disconnect(),
  };
}
