/**
 * The measurements of bench/realtime.mjs: fanout, dm, memory and signal. Each takes a freshly
 * started server child and a connect function, and stops the child before dropping its clients,
 * so a scenario's cleanup never runs into the next one's measurement.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { deferred, mapLimit, withTimeout, TimeoutError } from './async.mjs';
import { Samples } from './stats.mjs';
import { assertNoErrors, connectMany, dropClients } from './realtime-clients.mjs';

const ROOM = 'bench-room';
export const PAYLOAD_BYTES = 200;
/** A ~200-byte JSON payload: run tag, sequence number, send time, padding. */
function payloadPad() {
  const base = JSON.stringify({ r: 'abcdef', s: 1000, ts: 123456.789012345, p: '' }).length;
  return 'x'.repeat(PAYLOAD_BYTES - base);
}
const PAD = payloadPad();

/** Waits until `isDone()` (checked by `notify`), failing when nothing progresses for `stallMs`. */
function progressWaiter(progress, stallMs, describe) {
  const done = deferred();
  let last = -1;
  let lastChange = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const p = progress();
    if (p !== last) {
      last = p;
      lastChange = now;
    } else if (now - lastChange > stallMs) {
      done.reject(new TimeoutError(`stalled for ${stallMs} ms: ${describe()}`));
    }
  }, 250);
  done.promise.finally(() => clearInterval(timer)).catch(() => {});
  return done;
}

/**
 * One broadcast phase: `sender` posts M messages to ROOM with at most `window` not yet
 * delivered to all N clients; every client must receive every message exactly once.
 */
async function broadcastPhase(clients, sender, M, window) {
  const N = clients.length;
  const tag = randomBytes(3).toString('hex');
  const perSeq = new Uint32Array(M);
  const perClient = new Uint32Array(N);
  const latency = new Samples(N * M);
  let sent = 0;
  let completed = 0;
  let extra = 0;
  let lastAt = 0;
  const finished = progressWaiter(
    () => latency.length,
    15_000,
    () => `sent ${sent}/${M}, complete ${completed}, deliveries ${latency.length}/${N * M}`,
  );
  const pump = () => {
    while (sent < M && sent - completed < window) {
      sender.post(ROOM, { r: tag, s: sent, ts: performance.now(), p: PAD });
      sent += 1;
    }
  };
  clients.forEach((c, i) => {
    c.onData = (m) => {
      const now = performance.now();
      if (m === null || typeof m !== 'object' || m.r !== tag) return;
      latency.push(now - m.ts);
      perClient[i] += 1;
      const count = ++perSeq[m.s];
      if (count > N) extra += 1;
      if (count === N) {
        completed += 1;
        lastAt = now;
        if (completed === M) finished.resolve();
        else pump();
      }
    };
  });
  const t0 = performance.now();
  pump();
  await finished.promise;
  for (const c of clients) c.onData = null;
  const missing = perClient.reduce((n, got) => n + Math.max(0, M - got), 0);
  if (extra > 0 || missing > 0 || latency.length !== N * M) {
    throw new Error(`delivery check failed: ${latency.length}/${N * M} deliveries, ${missing} missing, ${extra} duplicates`);
  }
  const seconds = (lastAt - t0) / 1000;
  const s = latency.summary();
  return { deliveries: N * M, seconds, rate: (N * M) / seconds, p50: s.p50, p99: s.p99, max: s.max };
}

export async function scenarioFanout(system, child, connect, opts, N, M) {
  const clients = await connectMany(connect, N);
  try {
    await withTimeout(
      mapLimit(clients, 50, (c) => c.join(ROOM)),
      60_000,
      'joining',
    );
    const sender = clients[0];
    await broadcastPhase(clients, sender, Math.max(20, Math.round(M / 2)), opts.window); // warm-up (JIT)
    const cpu0 = await child.cpuMicros();
    const result = await broadcastPhase(clients, sender, M, opts.window);
    const cpu1 = await child.cpuMicros();
    // Unloaded: one message at a time, so latency is the fan-out itself, not queueing behind the window.
    const single = await broadcastPhase(clients, sender, opts.singleMessages, 1);
    assertNoErrors(clients, 'fanout');
    return {
      ...result,
      serverCpuUsPerDelivery: (cpu1 - cpu0) / result.deliveries,
      singleP50: single.p50,
      singleP99: single.p99,
    };
  } finally {
    await child.stop();
    await dropClients(clients);
  }
}

/** A → B → A, one at a time: a warm-up, then `k` measured round trips. */
async function pingPong(a, b, k, warmup, child) {
  const rtt = new Samples(k);
  b.onData = (m) => b.dm(a.id, m);
  const send = (i) => a.dm(b.id, { r: 'dm', s: i, ts: performance.now(), p: PAD });
  const run = (count, record) =>
    new Promise((resolve, reject) => {
      let i = 0;
      const stall = progressWaiter(
        () => i,
        10_000,
        () => `round trip ${i}/${count}`,
      );
      stall.promise.catch(reject);
      a.onData = (m) => {
        if (record) rtt.push(performance.now() - m.ts);
        i += 1;
        if (i === count) {
          stall.resolve();
          resolve();
        } else send(i);
      };
      send(0);
    });
  await run(warmup, false);
  await child.probeStart();
  await run(k, true);
  const probe = await child.probeStop();
  a.onData = null;
  b.onData = null;
  return { ...rtt.summary(), ...perUnit(probe, k, 'RoundTrip') };
}

/**
 * A phase's server figures per unit (round trip or message): CPU (user+system, and system
 * alone), V8 heap bytes allocated, read and write system calls (Linux), and the event loop's
 * longest stall over the phase.
 */
export function perUnit(probe, n, unit) {
  return {
    [`serverCpuUsPer${unit}`]: (probe.userUs + probe.systemUs) / n,
    [`serverSysUsPer${unit}`]: probe.systemUs / n,
    [`allocBytesPer${unit}`]: probe.allocatedBytes / n,
    ...(probe.writeCalls === undefined ? {} : { [`readsPer${unit}`]: probe.readCalls / n, [`writesPer${unit}`]: probe.writeCalls / n }),
    stallMaxMs: probe.stallMaxMs,
  };
}

export async function scenarioDm(system, child, connect, opts) {
  const clients = await connectMany(connect, 2);
  try {
    const [a, b] = clients;
    const s = await pingPong(a, b, opts.dmRoundTrips, opts.warmup, child);
    assertNoErrors(clients, 'dm');
    const { p50, p99, max, serverCpuUsPerRoundTrip, serverSysUsPerRoundTrip, allocBytesPerRoundTrip, stallMaxMs } = s;
    return { p50, p99, max, serverCpuUsPerRoundTrip, serverSysUsPerRoundTrip, allocBytesPerRoundTrip, stallMaxMs };
  } finally {
    await child.stop();
    await dropClients(clients);
  }
}

export async function scenarioMemory(system, child, connect, opts) {
  const C = opts.memoryClients;
  const warm = await connectMany(connect, 10, C); // loads lazy code paths before the baseline
  let clients = [];
  try {
    for (const c of warm) c.terminate();
    await withTimeout(Promise.all(warm.map((c) => c.closed.promise)), 10_000, 'closing warm-up clients');
    const before = await child.rpc('mem');
    clients = await connectMany(connect, C);
    const after = await child.rpc('mem');
    assertNoErrors(clients, 'memory');
    const heap = (x) => x.heapUsed + x.external;
    return {
      heapKiBPerConn: (heap(after) - heap(before)) / C / 1024,
      rssKiBPerConn: (after.rss - before.rss) / C / 1024,
      baseRssMiB: before.rss / 2 ** 20,
    };
  } finally {
    await child.stop();
    await dropClients([...warm, ...clients]);
  }
}

/** A ~4 KB SDP (Chrome-like audio+video+data offer); the origin line carries a sequence number. */
function sdpTemplate(type) {
  const lines = [
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1 2',
    'a=extmap-allow-mixed',
    'a=msid-semantic: WMS bench',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=ice-ufrag:Zx4f',
    'a=ice-pwd:7bd5cS3/8PHg1UOkVwgFP1qN',
    'a=ice-options:trickle',
    'a=fingerprint:sha-256 3B:79:0E:27:B1:86:4C:5A:9E:0D:31:75:F2:10:AA:64:C8:7D:5E:EB:16:02:9B:41:27:6E:8C:D3:F0:15:A2:99',
    `a=setup:${type === 'offer' ? 'actpass' : 'active'}`,
    'a=mid:0',
    'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    'a=sendrecv',
    'a=msid:bench 2f5e1c1e-7a7b-4b53-9b0e-3f1d7c2c9a11',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=rtcp-fb:111 transport-cc',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:63 red/48000/2',
    'a=fmtp:63 111/111',
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=ssrc:3735928559 cname:benchcname',
    'm=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 45 46',
    'c=IN IP4 0.0.0.0',
    'a=mid:1',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtcp-rsize',
  ];
  for (const [pt, codec] of [
    [96, 'VP8'],
    [98, 'VP9'],
    [100, 'H264'],
    [45, 'AV1'],
  ]) {
    lines.push(
      `a=rtpmap:${pt} ${codec}/90000`,
      `a=rtcp-fb:${pt} goog-remb`,
      `a=rtcp-fb:${pt} transport-cc`,
      `a=rtcp-fb:${pt} ccm fir`,
      `a=rtcp-fb:${pt} nack`,
      `a=rtcp-fb:${pt} nack pli`,
      `a=rtpmap:${pt + 1} rtx/90000`,
      `a=fmtp:${pt + 1} apt=${pt}`,
    );
  }
  lines.push('m=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', 'a=mid:2', 'a=sctp-port:5000', 'a=max-message-size:262144');
  let n = 0;
  while (lines.join('\r\n').length < 3900) {
    n += 1;
    lines.push(`a=candidate:${1000 + n} 1 udp ${2122260223 - n} 192.168.${n % 250}.${(n * 7) % 250} ${50000 + n} typ host generation 0 network-id 1`);
  }
  return `${lines.join('\r\n')}\r\n`;
}
const SDP_REST = { offer: sdpTemplate('offer'), answer: sdpTemplate('answer') };
export const makeSdp = (type, seq) => `v=0\r\no=- ${seq} 2 IN IP4 127.0.0.1\r\n${SDP_REST[type]}`;
export const sdpSeq = (sdp) => Number(sdp.slice(9, sdp.indexOf(' ', 9)));

export async function scenarioSignal(system, child, connect, opts) {
  const clients = await connectMany(connect, 2);
  try {
    const [a, b] = clients;
    if (system === 'switchboard') {
      // A real call: both in one group, invite, accept; then descriptions are relayed.
      await a.join('sig-room');
      await b.join('sig-room');
      const invited = deferred();
      b.onRtc = (f) => f.signal.kind === 'invite' && invited.resolve();
      await a.rtc(b.id, 'bench-call', { kind: 'invite', media: { audio: true, video: true } });
      await withTimeout(invited.promise, 5_000, 'invite');
      await b.rtc(a.id, 'bench-call', { kind: 'accept' });
    }
    const sentAt = new Map();
    const hop = new Samples(opts.signalHops);
    const run = (count, record) =>
      new Promise((resolve, reject) => {
        let i = 0;
        const stall = progressWaiter(
          () => i,
          10_000,
          () => `hop ${i}/${count}`,
        );
        stall.promise.catch(reject);
        const send = (from, to, seq) => {
          const type = seq % 2 === 0 ? 'offer' : 'answer';
          const sdp = makeSdp(type, seq);
          sentAt.set(seq, performance.now());
          from.signal(to.id, type, sdp);
        };
        const receive = (self, other) => (type, sdp) => {
          const now = performance.now();
          const seq = sdpSeq(sdp);
          if (record) hop.push(now - sentAt.get(seq));
          sentAt.delete(seq);
          i += 1;
          if (i === count) {
            stall.resolve();
            resolve();
          } else send(self, other, seq + 1);
        };
        a.onSignal = receive(a, b);
        b.onSignal = receive(b, a);
        send(a, b, 0);
      });
    await run(opts.warmup, false);
    await child.probeStart();
    await run(opts.signalHops, true);
    const probe = await child.probeStop();
    assertNoErrors(clients, 'signal');
    const s = hop.summary();
    return { p50: s.p50, p99: s.p99, max: s.max, ...perUnit(probe, opts.signalHops, 'Message') };
  } finally {
    await child.stop();
    await dropClients(clients);
  }
}
