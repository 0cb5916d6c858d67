/**
 * One client adapter per system for bench/realtime.mjs, all with the same shape, so every
 * scenario drives Switchboard, raw `ws`, Socket.IO and PeerJS with the same code. Clients live in
 * the parent process: one clock timestamps sends and receipts.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { deferred, mapLimit, withTimeout } from './async.mjs';
import { HOST } from './realtime-systems.mjs';

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
  // As the SDK does (session/resume.ts): the highest seq received rides on the next frame sent as `rx`.
  let lastSeq = 0;
  let reported = 0;
  const send = (frame) => {
    const rx = lastSeq > reported ? (reported = lastSeq) : undefined;
    ws.send(JSON.stringify(rx === undefined ? frame : { rx, ...frame }));
  };
  ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString());
    if (typeof f.seq === 'number' && f.seq > lastSeq) lastSeq = f.seq;
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
    send({ ...frame, id });
    return d.promise;
  };
  c.request = request;
  c.join = (room) => request({ type: 'join', group: room });
  c.post = (to, message) => send({ type: 'post', id: nextId++, to, message });
  c.dm = c.post;
  c.rtc = (to, call, signal) => request({ type: 'rtc', to, call, signal });
  c.signal = (to, type, sdp) => send({ type: 'rtc', id: nextId++, to, call: 'bench-call', signal: { kind: 'description', description: { type, sdp } } });
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
    ws.send(
      JSON.stringify({
        type: type === 'offer' ? 'OFFER' : 'ANSWER',
        dst: to,
        payload: { sdp: { type, sdp }, type: 'data', connectionId: 'dc_bench', label: 'dc_bench', reliable: true, serialization: 'binary', browser: 'node' },
      }),
    );
  c.terminate = () => ws.terminate();
  return c;
}

/** A connect function for a system: (index) => client. */
export async function clientFactory(system, info, ctx) {
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

export async function connectMany(connect, count, offset = 0) {
  return withTimeout(
    mapLimit(
      Array.from({ length: count }, (_, i) => i + offset),
      50,
      (i) => connect(i),
    ),
    120_000,
    `connecting ${count} clients`,
  );
}

/** Closes clients after their server is gone; waits (bounded) until each saw its close. */
export async function dropClients(clients) {
  for (const c of clients) {
    try {
      c.terminate();
    } catch {
      // already closed
    }
  }
  await withTimeout(Promise.all(clients.map((c) => c.closed.promise)), 15_000, 'closing clients').catch(() => {});
}

export function assertNoErrors(clients, what) {
  const errors = clients.flatMap((c) => c.errors);
  if (errors.length > 0) throw new Error(`${what}: ${errors.length} error(s), first: ${errors[0]}`);
}
