/**
 * The light-load relay of bench/realtime.mjs: P pairs of clients, each pair bouncing one message
 * A → B → A at a fixed total rate (R round trips per second over all pairs, started on a schedule,
 * not as fast as possible), for a fixed number of round trips. What a server spends per relayed
 * message when it is mostly idle between messages, and the latency tail that its own pauses (GC,
 * a slow handler) add: round trip p50/p99, server CPU per relayed message, V8 heap bytes
 * allocated per relayed message and the event loop's longest stall, all over the measured phase.
 *
 * `light-signal`: a ~4 KB SDP offer, answered by a ~4 KB answer (Switchboard: `rtc` description
 * in an accepted call, acked; PeerJS: OFFER/ANSWER; ws floor and Socket.IO: the same bytes as a
 * direct message). `light-dm`: a ~200-byte direct message and its echo (no PeerJS: it relays
 * only its signaling frames).
 */
import { performance } from 'node:perf_hooks';
import { deferred, mapLimit, withTimeout, TimeoutError } from './async.mjs';
import { Samples } from './stats.mjs';
import { assertNoErrors, connectMany, dropClients } from './realtime-clients.mjs';
import { makeSdp, perUnit, sdpSeq } from './realtime-scenarios.mjs';

const PAD = 'x'.repeat(140);

/** Invites and accepts one call per pair (Switchboard), so its descriptions are relayed inside a call. */
async function openCalls(pairs) {
  await mapLimit(pairs, 25, async ([a, b], i) => {
    const room = `light-${i}`;
    await a.join(room);
    await b.join(room);
    const invited = deferred();
    b.onRtc = (f) => f.signal.kind === 'invite' && invited.resolve();
    await a.rtc(b.id, 'bench-call', { kind: 'invite', media: { audio: true, video: true } });
    await withTimeout(invited.promise, 10_000, 'invite');
    await b.rtc(a.id, 'bench-call', { kind: 'accept' });
  });
}

/**
 * Sends `count` round trips spread over the pairs at `perSecond`; each pair has at most one in
 * flight (a pair whose turn comes while busy skips it, counted). Resolves with the RTT samples.
 */
function paced(pairs, kind, count, perSecond, record) {
  const rtt = new Samples(count);
  const done = deferred();
  let started = 0;
  let finished = 0;
  let skipped = 0;
  let lastProgress = performance.now();
  const busy = new Uint8Array(pairs.length);
  const sentAt = new Float64Array(pairs.length);
  // What each pair's answer must carry: a late answer from an earlier phase is not this one's.
  const expected = new Float64Array(pairs.length).fill(-1);
  const tag = Math.random();
  const finish = (i, seq) => {
    if (!busy[i] || seq !== expected[i]) return;
    const now = performance.now();
    busy[i] = 0;
    if (record) rtt.push(now - sentAt[i]);
    finished += 1;
    lastProgress = now;
    if (finished === count) done.resolve();
  };
  pairs.forEach(([a, b], i) => {
    if (kind === 'signal') {
      b.onSignal = (type, sdp) => b.signal(a.id, 'answer', makeSdp('answer', sdpSeq(sdp)));
      a.onSignal = (type, sdp) => finish(i, sdpSeq(sdp));
    } else {
      b.onData = (m) => b.dm(a.id, m);
      a.onData = (m) => finish(i, m.t === tag ? m.s : -2);
    }
  });
  const t0 = performance.now();
  let next = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - lastProgress > 10_000) done.reject(new TimeoutError(`light load stalled: ${finished}/${count} round trips`));
    const due = Math.min(count, Math.floor(((now - t0) / 1000) * perSecond));
    while (started < due) {
      const i = next;
      next = (next + 1) % pairs.length;
      started += 1;
      if (busy[i]) {
        skipped += 1;
        finished += 1; // not sent: counts toward the end, not toward the samples
        if (finished === count) done.resolve();
        continue;
      }
      busy[i] = 1;
      expected[i] = started;
      const [a, b] = pairs[i];
      sentAt[i] = performance.now();
      if (kind === 'signal') a.signal(b.id, 'offer', makeSdp('offer', started));
      else a.dm(b.id, { r: 'light', t: tag, s: started, p: PAD });
    }
  }, 2);
  return done.promise.finally(() => clearInterval(timer)).then(() => ({ rtt, skipped, seconds: (performance.now() - t0) / 1000 }));
}

export async function scenarioLight(system, child, connect, opts, kind) {
  const clients = await connectMany(connect, 2 * opts.lightPairs);
  try {
    const pairs = [];
    for (let i = 0; i < opts.lightPairs; i++) pairs.push([clients[2 * i], clients[2 * i + 1]]);
    if (system === 'switchboard' && kind === 'signal') await withTimeout(openCalls(pairs), 120_000, 'opening calls');
    const perSecond = opts.lightRate;
    await paced(pairs, kind, Math.min(opts.lightRoundTrips, 2 * perSecond), perSecond, false); // warm-up
    await child.probeStart();
    const { rtt, skipped } = await paced(pairs, kind, opts.lightRoundTrips, perSecond, true);
    const probe = await child.probeStop();
    assertNoErrors(clients, `light-${kind}`);
    const s = rtt.summary();
    // Two relayed messages per round trip (there and back).
    const messages = 2 * rtt.length;
    return { p50: s.p50, p99: s.p99, max: s.max, skipped, ...perUnit(probe, messages, 'Message'), gcPauseMaxMs: probe.gcPauseMaxMs, gcByKind: probe.gcByKind };
  } finally {
    await child.stop();
    await dropClients(clients);
  }
}
