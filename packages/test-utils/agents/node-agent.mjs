// A Node peer in its own process (the built @switchboard/client/node), driven over stdio with
// one JSON object per line: commands in ({ id, op, ... }), replies ({ id, ok, ... }) and events
// ({ event, ... }) out. Used by e2e/node-*.test.ts (inside the Chromium's network namespace) and
// bench/transfer.mjs. See src/node-agent-control.ts for the driving side.
//
//   node packages/test-utils/agents/node-agent.mjs --url http://127.0.0.1:PORT [--name N | --token T] [--group G] [--bind 127.0.0.1] [--options JSON]
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Switchboard, receiveFiles, sendFile, livePeerConnections } from '@switchboard/client/node';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    name: { type: 'string' },
    token: { type: 'string' },
    group: { type: 'string' },
    bind: { type: 'string' },
    options: { type: 'string' },
  },
});
const out = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const extra = args.options ? JSON.parse(args.options) : {}; // e.g. {"iceDisconnectGraceMs":1000}
const sb = new Switchboard({ url: args.url, name: args.name, token: args.token, node: args.bind ? { bindAddress: args.bind } : {}, ...extra });

let current = null; // { resolved, opened: Set<label> }
let autoAccept = null;
const texts = {};
const payloads = new Map();

function payload(size) {
  if (!payloads.has(size)) {
    const data = new Uint8Array(size);
    const view = new DataView(data.buffer);
    let x = 0x9e3779b9;
    for (let i = 0; i + 4 <= size; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      view.setUint32(i, x >>> 0);
    }
    payloads.clear();
    payloads.set(size, data);
  }
  return payloads.get(size);
}

function callback(event) {
  if (event.type === 'open') {
    current?.opened.add(event.label);
    out({ event: 'open', label: event.label });
  } else if (event.type === 'message' && typeof event.data === 'string' && !event.data.startsWith('{"sbft"')) {
    (texts[event.label] ??= []).push(event.data);
    out({ event: 'message', label: event.label, data: event.data });
  } else if (event.type === 'connectionstatechange' || event.type === 'iceconnectionstatechange') {
    out({ event: event.type, state: event.state, at: Date.now() });
  }
}

function channel(label) {
  const ch = current?.resolved.channels[label];
  if (!ch || ch.readyState !== 'open') throw new Error(`channel ${label} is not open`);
  return ch;
}

async function waitOpen(labels, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!labels.every((label) => current?.resolved.channels[label]?.readyState === 'open')) {
    if (Date.now() > deadline) throw new Error(`channels ${labels.join(', ')} did not open`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const labelsOf = (params) => (params?.channels ?? ['default']).map((c) => (typeof c === 'string' ? c : (c.label ?? c.protocol ?? 'default')));

const ops = {
  async call({ cid, params = {}, labels }) {
    const started = Date.now();
    const connector = await sb.connectRTC({ cid, ...params }, callback);
    const resolved = await connector.connection;
    current = { resolved, opened: new Set(), firstTarget: resolved.target };
    await waitOpen(labels ?? labelsOf(params));
    return { call: resolved.call, setupMs: Date.now() - started };
  },
  autoAccept({ params = {}, labels }) {
    autoAccept = { params, labels };
    return {};
  },
  send({ label = 'default', data }) {
    channel(label).send(data);
    return {};
  },
  texts({ label = 'default' }) {
    return { texts: texts[label] ?? [] };
  },
  async sendFile({ label = 'file-transfer', size, name = 'payload.bin', chunkSize }) {
    const data = payload(size);
    const started = Date.now();
    const result = await sendFile(channel(label), data, { name, pc: current.resolved.target, ...(chunkSize ? { chunkSize } : {}) });
    return { transferId: result.id, name: result.name, bytes: result.bytes, sha256: result.sha256, ms: Date.now() - started, startedAt: started };
  },
  receive({ label = 'file-transfer' }) {
    receiveFiles(channel(label), {
      onFile: (file) => out({ event: 'file', name: file.name, bytes: file.bytes, sha256: file.sha256, ms: file.ms, at: Date.now() }),
      onError: (error) => out({ event: 'fileError', code: error.code, message: error.message }),
    });
    return {};
  },
  async rawSend({ label = 'file-transfer', size, chunk = 16 * 1024 }) {
    const ch = channel(label);
    const data = payload(size);
    const started = Date.now();
    ch.bufferedAmountLowThreshold = 256 * 1024;
    for (let offset = 0; offset < data.byteLength; offset += chunk) {
      if (ch.bufferedAmount > 1024 * 1024) await new Promise((resolve) => ch.addEventListener('bufferedamountlow', resolve, { once: true }));
      ch.send(data.subarray(offset, offset + chunk));
    }
    return { startedAt: started, queuedMs: Date.now() - started };
  },
  rawCount({ label = 'file-transfer', total }) {
    const ch = channel(label);
    ch.binaryType = 'arraybuffer';
    let got = 0;
    const onMessage = (event) => {
      if (!(event.data instanceof ArrayBuffer)) return;
      got += event.data.byteLength;
      if (got >= total) {
        ch.removeEventListener('message', onMessage);
        out({ event: 'rawDone', bytes: got, at: Date.now() });
      }
    };
    ch.addEventListener('message', onMessage);
    return {};
  },
  pair() {
    return { pair: current?.resolved.target.selectedCandidatePair?.() ?? null };
  },
  hangup() {
    current?.resolved.hangup();
    return {};
  },
  state() {
    return {
      connectionState: current?.resolved.target.connectionState ?? null,
      livePeerConnections: livePeerConnections(),
      call: current?.resolved.call ?? null,
      // A renewal (the ICE restart of libdatachannel calls) replaces the peer connection inside the call.
      renewed: current ? current.resolved.target !== current.firstTarget : false,
      bytesReceived: current?.resolved.target.bytesReceived?.() ?? null,
    };
  },
  /** Internals, for diagnosing a failed test: the live calls' state and the warnings they logged. */
  debug() {
    const calls = sb.calls?.active ?? [];
    return {
      calls: calls.map((c) => ({
        id: c.id,
        state: c.state,
        warnings: c.warnings.slice(-20),
        pc: c.session?.pc.connectionState ?? null,
        generation: c.session?.generation ?? null,
      })),
    };
  },
  async close() {
    await sb.closeRealtime();
    return {};
  },
};

await sb.connectRealtime(async (event) => {
  if (event.type === 'rtc:incoming') {
    out({ event: 'incoming', call: event.call, sender: event.sender, sender_cid: event.sender_cid });
    if (!autoAccept) return;
    const started = Date.now();
    const resolved = await event.connectRTC(autoAccept.params, callback);
    if (!resolved) return;
    current = { resolved, opened: new Set(), firstTarget: resolved.target };
    const labels = autoAccept.labels ?? ['default'];
    waitOpen(labels).then(
      () => out({ event: 'accepted', call: resolved.call, setupMs: Date.now() - started }),
      (error) => out({ event: 'acceptFailed', message: error.message }),
    );
  } else if (event.type === 'rtc:closed') {
    out({ event: 'closed', reason: event.message.reason, call: event.message.call, code: event.message.error?.code ?? null });
  }
});
if (args.group) await sb.joinRealtime({ group: args.group });
out({ event: 'ready', cid: sb.cid, user_id: sb.user.user_id });

createInterface({ input: process.stdin }).on('line', async (line) => {
  let command;
  try {
    command = JSON.parse(line);
    const op = ops[command.op];
    if (!op) throw new Error(`unknown op ${command.op}`);
    const reply = await op(command);
    out({ ...reply, id: command.id, ok: true });
  } catch (error) {
    out({ id: command?.id ?? null, ok: false, error: error?.message ?? String(error), code: error?.code ?? null });
  }
});
// stdin closing (the driver went away) ends the agent: close realtime, then exit naturally.
process.stdin.on('end', () => void sb.closeRealtime());
