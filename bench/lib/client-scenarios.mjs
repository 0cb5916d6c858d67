/**
 * The measurements of bench/client.mjs: what the client side costs.
 *  - throughput: two clients relay ~200-byte direct messages (A → B, B echoes → A) with W round
 *    trips in flight; messages delivered per second, and the client process's CPU per message.
 *    The bare wire client (a `ws` socket, JSON.parse, a switch) against the Node SDK
 *    (postRealtime, its realtime callback), on the same server.
 *  - connect: from the call to the welcome, one connection at a time: connectRealtime() as a
 *    guest (token request + socket + welcome) and with a token, a raw `ws` socket to the floor
 *    server (open + its welcome), PeerJS (socket + OPEN). "first" is the first connection of a
 *    fresh process (the library imported, nothing else run), "warm" the following ones.
 *  - ring: connectRTC() until the callee's callback sees `rtc:incoming` (Node SDK, data call),
 *    with no media and with a camera that takes CAMERA_MS to open.
 */
import { performance } from 'node:perf_hooks';
import { deferred, withTimeout } from './async.mjs';
import { dropClients } from './realtime-clients.mjs';
import { summarize } from './stats.mjs';

const PAD = 'x'.repeat(150);
export const CAMERA_MS = 200;
const abs = () => performance.timeOrigin + performance.now();
const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** The Node SDK as a relay client (the shape of bench/lib/realtime-clients.mjs's clients). */
export async function sdkClient(info, token, Switchboard) {
  const c = { id: null, onData: null, errors: [], closed: deferred() };
  const sb = new Switchboard({ url: info.url, token, reconnect: false });
  await sb.connectRealtime((event) => {
    if (event.type === 'message' || event.type === 'private') c.onData?.(event.message);
    else if (event.type === 'error') c.errors.push(event.message);
  });
  c.id = sb.cid;
  const fail = (err) => c.errors.push(err?.message ?? String(err));
  c.dm = (to, message) => {
    sb.postRealtime(message, to).catch(fail);
  };
  c.terminate = () => {
    sb.closeRealtime().catch(() => {});
    c.closed.resolve();
  };
  return c;
}

/** A relays to B, B echoes back; `window` round trips in flight. Resolves with the phase's figures. */
function relayPhase(a, b, count, window) {
  const done = deferred();
  let sent = 0;
  let back = 0;
  let last = performance.now();
  const stall = setInterval(() => {
    if (performance.now() - last > 15_000) done.reject(new Error(`relay stalled at ${back}/${count}`));
  }, 1000);
  b.onData = (m) => b.dm(a.id, m);
  a.onData = () => {
    back += 1;
    last = performance.now();
    if (back === count) done.resolve();
    else if (sent < count) a.dm(b.id, { s: sent++, p: PAD });
  };
  const t0 = performance.now();
  const cpu0 = cpuMicros();
  while (sent < Math.min(window, count)) a.dm(b.id, { s: sent++, p: PAD });
  return done.promise
    .finally(() => clearInterval(stall))
    .then(() => {
      const seconds = (performance.now() - t0) / 1000;
      const messages = count * 2; // both legs are relayed messages
      return { messages, rate: messages / seconds, clientCpuUsPerMessage: (cpuMicros() - cpu0) / messages };
    });
}

export async function scenarioThroughput(child, connect, opts) {
  const clients = [await connect(0), await connect(1)];
  try {
    const [a, b] = clients;
    await relayPhase(a, b, opts.warmup, opts.window); // JIT
    const server0 = await child.cpuMicros();
    const result = await relayPhase(a, b, opts.relayCount, opts.window);
    const server1 = await child.cpuMicros();
    const errors = clients.flatMap((c) => c.errors);
    if (errors.length > 0) throw new Error(`relay: ${errors.length} error(s), first: ${errors[0]}`);
    return { ...result, serverCpuUsPerMessage: (server1 - server0) / result.messages };
  } finally {
    await child.stop();
    await dropClients(clients);
  }
}

/**
 * One connection of `system`, timed: { ms, marks } (marks: absolute times of the steps seen
 * from the client, for the breakdown). `lib` holds what the system needs (imported once).
 */
export async function timedConnect(system, info, lib) {
  const marks = {};
  const mark = (name) => (marks[name] ??= abs());
  const t0 = abs();
  marks.call = t0;
  if (system.startsWith('sdk')) {
    const { Switchboard, nodePlatform } = lib.sdk;
    const base = nodePlatform();
    // The SDK's own platform, with the steps marked (the same fetch and ws it uses by default).
    const platform = {
      fetch: (input, init) => {
        mark('tokenRequest');
        return base.fetch(input, init).then((response) => (mark('tokenResponse'), response));
      },
      WebSocket: class extends base.WebSocket {
        constructor(url, protocols) {
          mark('socket');
          super(url, protocols);
          this.once('upgrade', () => mark('upgraded'));
          this.once('open', () => mark('open'));
          this.once('message', () => mark('welcome'));
        }
      },
    };
    const sb = new Switchboard({ url: info.url, reconnect: false, platform, ...(system === 'sdk-token' ? { token: lib.token } : {}) });
    await sb.connectRealtime(() => undefined);
    marks.connected = abs();
    await sb.closeRealtime();
  } else {
    const WebSocket = lib.WebSocket;
    const url =
      system === 'ws' ? `ws://127.0.0.1:${info.port}/` : `ws://127.0.0.1:${info.port}/peerjs?key=peerjs&id=p${Math.random().toString(36).slice(2)}&token=t1`;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    marks.socket = abs();
    ws.once('upgrade', () => mark('upgraded'));
    ws.once('open', () => mark('open'));
    await new Promise((resolve, reject) => {
      ws.once('message', () => (mark('welcome'), resolve())); // the floor's welcome, PeerJS's OPEN
      ws.once('error', reject);
    });
    marks.connected = abs();
    ws.terminate();
  }
  return { ms: marks.connected - t0, marks };
}

/** Loads what `timedConnect` needs for `system` (outside the timed part). */
export async function connectLib(system, token, before) {
  if (system === 'sdk-before') return { sdk: await import(before), token: undefined };
  if (system === 'sdk' || system === 'sdk-token') return { sdk: await import('@switchboard/client/node'), token };
  return { WebSocket: (await import('ws')).default };
}

/** Steps of an SDK connection (client marks, server arrival times): name → ms. */
export function breakdown(marks, server) {
  const span = (from, to) => (marks[from] !== undefined && marks[to] !== undefined ? marks[to] - marks[from] : undefined);
  const request = server.find((e) => e.name === 'request');
  const upgrade = server.find((e) => e.name === 'upgrade');
  const out = {
    'call → token request sent': span('call', 'tokenRequest'),
    'token request (client: sent → answered)': span('tokenRequest', 'tokenResponse'),
    'token answered → socket created': span('tokenResponse', 'socket'),
    'socket created → 101 (client)': span('socket', 'upgraded'),
    '101 → open': span('upgraded', 'open'),
    'open → welcome': span('open', 'welcome'),
    'welcome → connectRealtime resolved': span('welcome', 'connected'),
  };
  if (request && marks.tokenRequest !== undefined) {
    out['server: token request arrived after'] = request.t - marks.tokenRequest;
    if (request.finish !== undefined) out['server: token handled in'] = request.finish - request.t;
  }
  if (upgrade && marks.socket !== undefined) {
    out['server: upgrade arrived after'] = upgrade.t - marks.socket;
    if (marks.upgraded !== undefined) out['server: upgrade → 101 at client'] = marks.upgraded - upgrade.t;
  }
  return out;
}

/** Time to ring: connectRTC() → the callee's `rtc:incoming`, `count` calls one after the other. */
export async function scenarioRing(child, info, opts, tokens) {
  const { Switchboard, nodePlatform } = await import('@switchboard/client/node');
  const results = {};
  const clients = [];
  try {
    for (const cameraMs of [0, CAMERA_MS]) {
      // A camera that takes `cameraMs` to open (Node carries no tracks: an empty stream).
      const platform = cameraMs
        ? { ...nodePlatform({ bindAddress: '127.0.0.1' }), getUserMedia: () => new Promise((r) => setTimeout(() => r(emptyStream()), cameraMs)) }
        : nodePlatform({ bindAddress: '127.0.0.1' });
      const caller = new Switchboard({ url: info.url, token: tokens[0], reconnect: false }, platform);
      const callee = new Switchboard({ url: info.url, token: tokens[1], reconnect: false }, nodePlatform({ bindAddress: '127.0.0.1' }));
      clients.push(caller, callee);
      let incoming = null;
      await caller.connectRealtime(() => undefined);
      await callee.connectRealtime((event) => {
        if (event.type === 'rtc:incoming') incoming?.resolve(event);
      });
      // Connections may signal each other when they share a group.
      await caller.joinRealtime({ group: `ring-${cameraMs}` });
      await callee.joinRealtime({ group: `ring-${cameraMs}` });
      const samples = [];
      for (let i = 0; i < opts.rings; i++) {
        incoming = deferred();
        const t0 = performance.now();
        const placed = caller.connectRTC({ cid: callee.cid, ...(cameraMs ? { media: { video: true } } : {}) }, () => undefined);
        const event = await withTimeout(incoming.promise, 10_000, 'rtc:incoming');
        samples.push(performance.now() - t0);
        event.hangup();
        const connector = await placed;
        await connector.connection.catch(() => undefined);
      }
      results[cameraMs ? 'camera' : 'none'] = summarize(samples).p50;
    }
    return { ringMs: results.none, ringWithCameraMs: results.camera };
  } finally {
    await Promise.all(clients.map((sb) => sb.closeRealtime().catch(() => undefined)));
    await child.stop();
  }
}

function emptyStream() {
  return { getTracks: () => [], getAudioTracks: () => [], getVideoTracks: () => [] };
}
