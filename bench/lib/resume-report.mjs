/** bench/resume.mjs: one run's figures, the table over runs, and its section of docs/benchmarks.md. */
import path from 'node:path';
import { replaceSection } from './docs.mjs';
import { describeMachine } from './env.mjs';
import { RECOVERY_WINDOW_MS } from './resume-servers.mjs';
import { ROOT } from './realtime-systems.mjs';
import { combineRuns, percentile } from './stats.mjs';
import { fmt, markdownTable } from './table.mjs';

export const HEADING = 'Delivery across forced disconnects';
const LABELS = {
  switchboard: 'Switchboard (session resume, Node SDK)',
  socketio: 'Socket.IO 4.8 (connection-state recovery)',
};

/** Delivery checked against the acks; the fences that end a run are left out. */
export function runFigures({ clients, kills, settled, fenced }) {
  let expected = 0,
    delivered = 0,
    duplicates = 0,
    reordered = 0,
    unackedDelivered = 0;
  for (const r of clients) {
    for (const s of clients) {
      if (s.group !== r.group) continue;
      const seen = new Set();
      let last = 0;
      for (const n of r.received.get(s.index) ?? []) {
        if (n === s.fence) continue;
        if (seen.has(n)) duplicates += 1;
        else if (n < last) reordered += 1;
        seen.add(n);
        last = Math.max(last, n);
      }
      for (const n of s.acked) if (n !== s.fence) expected += 1;
      for (const n of seen) {
        if (s.acked.has(n)) delivered += 1;
        else unackedDelivered += 1;
      }
    }
  }
  const replay = clients.flatMap((c) => c.replayMs);
  const away = clients.flatMap((c) => c.awayDelayMs);
  const handshake = clients.flatMap((c) => c.handshakeMs);
  const sum = (f) => clients.reduce((total, c) => total + f(c), 0);
  return {
    deliveryPercent: (delivered / expected) * 100,
    expected,
    delivered,
    lost: expected - delivered,
    duplicates,
    reordered,
    unackedDelivered,
    posts: sum((c) => c.posted - 1),
    acked: sum((c) => c.acked.size - (c.acked.has(c.fence) ? 1 : 0)),
    failed: sum((c) => c.failed),
    kills: kills.server + kills.client,
    killsServerSide: kills.server,
    reconnects: sum((c) => c.reconnects),
    recovered: sum((c) => c.recovered),
    recoveredPercent:
      (sum((c) => c.recovered) /
        Math.max(
          1,
          sum((c) => c.reconnects),
        )) *
      100,
    replayed: replay.length,
    replayP50: percentile(replay, 50),
    replayP99: percentile(replay, 99),
    awayP50: percentile(away, 50),
    awayP99: percentile(away, 99),
    handshakeP50: percentile(handshake, 50),
    handshakeP99: percentile(handshake, 99),
    settled: settled ? 1 : 0,
    fenced: fenced ? 1 : 0,
  };
}

export function printResumeReport(results, opts, machine) {
  const rows = [];
  for (const system of opts.systems) {
    const runs = results[system];
    if (!runs?.length) continue;
    const m = combineRuns(runs);
    const med = (key) => m[key]?.median;
    rows.push([
      LABELS[system] ?? system,
      `${med('deliveryPercent').toFixed(2)} %`,
      fmt(med('lost')),
      fmt(med('duplicates')),
      fmt(med('reordered')),
      `${fmt(med('recovered'))} / ${fmt(med('reconnects'))}`,
      `${fmt(med('replayP50'))} / ${fmt(med('replayP99'))}`,
      `${fmt(med('handshakeP50'))} / ${fmt(med('handshakeP99'))}`,
      `${fmt(med('awayP50'))} / ${fmt(med('awayP99'))}`,
      `${fmt(med('acked'))} (${fmt(med('failed'))})`,
      runs.map((r) => `${r.deliveryPercent.toFixed(2)} %`).join(' / '),
    ]);
  }
  const table = markdownTable(
    [
      'System',
      { title: 'Delivered (of acked × members)', align: 'right' },
      { title: 'Lost', align: 'right' },
      { title: 'Duplicates', align: 'right' },
      { title: 'Reordered', align: 'right' },
      { title: 'Reconnects recovered', align: 'right' },
      { title: 'Replay latency p50 / p99 (ms)', align: 'right' },
      { title: 'Reconnect attempt p50 / p99 (ms)', align: 'right' },
      { title: 'Delay while away p50 / p99 (ms)', align: 'right' },
      { title: 'Posts acked (failed)', align: 'right' },
      'Delivered per run',
    ],
    rows,
  );
  const loads = `load average ${machine.loadAverage.join(' ')} at the start, ${machine.loadAverageEnd?.join(' ')} at the end`;
  const body = `Measured by \`node bench/resume.mjs\` (${machine.date.slice(0, 10)}, commit ${machine.commit}; ${describeMachine(machine)}; ${loads}; ${machine.seconds} s in all).
${opts.clients} clients in groups of ${opts.groupSize}, all in the benchmark process; each posts \`{s, n, t}\` to its group every 0.5–1 s (one post in flight) and loses its socket every 5–15 s for ${opts.seconds} s: half the kills destroy the TCP socket in the server process, half terminate the client's own ws, both without a close frame, as in a network blip. Both systems get the same seeded kill and post schedule in a run; a fresh server child per system and run; ${opts.runs} runs with the systems interleaved, medians shown. After the kills stop, every client posts a fence once all are connected again, and the run ends when every fence reached every member.

- **Switchboard**: the server with its defaults except the per-address limits (all clients are on 127.0.0.1); resume window ${RECOVERY_WINDOW_MS / 1000} s (default); the Node SDK with its default reconnect policy (backoff from 500 ms).
- **Socket.IO** 4.8 (\`socket.io\` + \`socket.io-client\`, websocket transport): \`connectionStateRecovery: { maxDisconnectionDuration: ${RECOVERY_WINDOW_MS}, skipMiddlewares: true }\`, posts are \`io.to(room).emit\` broadcasts (what recovery replays), acked by the server; the client with \`retries: 3, ackTimeout: 5000\` (its at-least-once for emits) and its default reconnect policy (1 s ± 50 %); a session not recovered re-joins its room.

Every message a member receives is checked against the acks its sender got. *Delivered*: acked messages that reached each member of the sender's group (the sender too) once or more, over acked × members. *Duplicates*: a member receiving the same message again. *Reordered*: received after a later message of the same sender. *Replay latency*: for a message posted by a connected sender while its recipient was away (between the kill and the reconnect), its arrival minus the start of the reconnect attempt that succeeded, or minus its post time if that came later (each client's backoff left out). *Reconnect attempt*: from that start to the client being told it is connected again (Switchboard's \`reconnect\` event, Socket.IO's \`connect\`). *Delay while away*: the same messages' arrival minus their post time (backoff included).

${table}

${reading(results, opts)}`;
  console.log(`\n## ${HEADING}\n\n${body}\n`);
  return body;
}

/** The paragraph under the table, from the medians (so a re-run rewrites it with its own figures). */
function reading(results, opts) {
  const med = (system, key) => (results[system]?.length ? combineRuns(results[system])[key]?.median : undefined);
  const sb = (key) => med('switchboard', key);
  const io = (key) => med('socketio', key);
  if (sb('deliveryPercent') === undefined || io('deliveryPercent') === undefined) return '';
  const perRun = (system, key) => results[system].map((r) => fmt(r[key])).join(' / ');
  return `**Reading.** With ${opts.clients} clients each losing its socket every 5–15 s, Switchboard delivered ${fmt(sb('deliveryPercent'), 4)} % and Socket.IO ${fmt(io('deliveryPercent'), 4)} % of acked messages to every member (medians), and they recovered ${fmt(sb('recovered'))} of ${fmt(sb('reconnects'))} and ${fmt(io('recovered'))} of ${fmt(io('reconnects'))} reconnects: here both recover the gap (room broadcasts, outages well inside the window). The difference is on the way up: a post whose ack was lost is sent again by both clients; Switchboard's server runs it once (it remembers the request ids a connection sent), Socket.IO's runs it again and every member gets it twice (duplicates per run: Switchboard ${perRun('switchboard', 'duplicates')}, Socket.IO ${perRun('socketio', 'duplicates')}; each re-run post counts once per member of its group of ${opts.groupSize}). (Without \`retries\`, a Socket.IO emit in flight when the socket dies is not sent again: at most once.) Replay latency follows the reconnect attempt (TCP, upgrade, handshake): for both, the replay adds little on top of it (compare the two columns). These timings moved a lot from run to run on these shared, heavily loaded cores (see the load average): the reconnect attempt's p50 per run was ${perRun('switchboard', 'handshakeP50')} ms for Switchboard and ${perRun('socketio', 'handshakeP50')} ms for Socket.IO, so read them as an order of magnitude, not a ranking. Not exercised here, from Socket.IO's source (socket.io-adapter's in-memory adapter): recovery restarts from the offset of the last room broadcast the client received, and broadcasts are kept only for \`maxDisconnectionDuration\`, so a client that received none recently (a quiet room) is not recovered even after a short blip, and what was sent to the socket directly (\`socket.emit\`) and acks are not replayed; Switchboard numbers and replays every frame of the connection (messages, private messages, notices, call signals, acks).`;
}

export function writeResumeDocs(body) {
  const file = path.join(ROOT, 'docs', 'benchmarks.md');
  replaceSection(file, HEADING, body, { intro: '# Benchmarks\n' });
  console.error(`docs/benchmarks.md: "${HEADING}" updated`);
}
