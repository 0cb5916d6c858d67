#!/usr/bin/env node
/**
 * What a relayed ~4 KB SDP description costs in JavaScript on the server, decode and re-encode
 * only (no sockets), three ways in one process, interleaved, medians of several runs:
 *  - PeerJS's relay: JSON.parse, set the sender, JSON.stringify;
 *  - a whole-frame parse: JSON.parse, the protocol schema, JSON.stringify of the relayed frame
 *    (what Switchboard did before the SDP passthrough);
 *  - Switchboard: decodeClientMessage and encode (the SDP parsed apart and spliced back as it came,
 *    packages/protocol/src/sdp-passthrough.ts).
 *
 *   npx tsc -b packages/protocol && node bench/relay-codec.mjs [--runs 7] [--ops 20000]
 */
import * as v from 'valibot';
import { clientSchemas, decodeClientMessage, encode } from '../packages/protocol/dist/index.js';
import { makeSdp } from './lib/realtime-scenarios.mjs';

const arg = (flag, fallback) => {
  const i = process.argv.indexOf(flag);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const runs = arg('--runs', 7);
const ops = arg('--ops', 20_000);

// Distinct frames, as a server sees them (no string reused from one message to the next).
const frames = Array.from({ length: 256 }, (_, i) =>
  JSON.stringify({
    type: 'rtc',
    id: i,
    to: 'cid:bob',
    call: 'bench-call',
    signal: { kind: 'description', description: { type: 'offer', sdp: makeSdp('offer', i) } },
  }),
);
const peerFrames = frames.map((f) => {
  const m = JSON.parse(f);
  return JSON.stringify({ type: 'OFFER', dst: 'bob', payload: { sdp: m.signal.description, type: 'media', connectionId: 'mc_1' } });
});
const relayed = (m) => ({ type: 'rtc', call: m.call, sender: 'ada', sender_cid: 'cid:ada', sender_name: 'Ada', signal: m.signal });

const ways = {
  'PeerJS (parse, stringify)': (i) => {
    const m = JSON.parse(peerFrames[i & 255]);
    m.src = 'ada';
    return JSON.stringify(m).length;
  },
  'whole-frame parse, schema, stringify': (i) => {
    const parsed = v.safeParse(clientSchemas.rtc, JSON.parse(frames[i & 255]));
    return JSON.stringify(relayed(parsed.output)).length;
  },
  'Switchboard (SDP passthrough)': (i) => {
    const decoded = decodeClientMessage(frames[i & 255]);
    return encode(relayed(decoded.value)).length;
  },
};

const samples = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
let sink = 0;
for (const way of Object.values(ways)) for (let i = 0; i < 5_000; i++) sink += way(i); // warm-up
for (let run = 0; run < runs; run++) {
  for (const [name, way] of Object.entries(ways)) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) sink += way(i);
    samples[name].push(Number(process.hrtime.bigint() - t0) / ops / 1000);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`| Relay of a ${frames[0].length}-byte description | µs per message (median of ${runs}) | min–max |`);
console.log('|---|---:|---:|');
for (const [name, xs] of Object.entries(samples)) {
  console.log(`| ${name} | ${median(xs).toFixed(1)} | ${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} |`);
}
if (sink === 0) console.log('');
