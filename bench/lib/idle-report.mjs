/** The table of bench/idle.mjs and its section of docs/benchmarks.md. */
import path from 'node:path';
import { describeMachine } from './env.mjs';
import { replaceSection } from './docs.mjs';
import { ROOT } from './realtime-systems.mjs';
import { combineRuns } from './stats.mjs';
import { fmt, markdownTable, withSpread } from './table.mjs';

export const IDLE_HEADING = '## Idle connections and the accept path';

const LABELS = {
  ws: 'raw `ws` (floor)',
  peerjs: 'PeerJS server',
  socketio: 'Socket.IO',
  switchboard: 'Switchboard',
};
const CONNECT = {
  ws: 'socket, welcome',
  peerjs: 'GET /peerjs/id, socket, OPEN',
  socketio: 'connect',
  switchboard: 'POST /v1/guest, socket, welcome',
};

export function printIdleReport(results, opts, machine) {
  const combined = Object.fromEntries(Object.entries(results).map(([system, runs]) => [system, combineRuns(runs)]));
  const order = ['ws', 'peerjs', 'socketio', 'switchboard'].filter((s) => combined[s]);
  const rows = order.map((s) => {
    const c = combined[s];
    return [
      LABELS[s],
      withSpread(c.rssKiBPerConn),
      withSpread(c.heapKiBPerConn),
      withSpread(c.acceptCpuUs),
      withSpread(c.acceptPerSecond),
      `${fmt(c.connectP50Ms?.median)} / ${fmt(c.connectP90Ms?.median)}`,
      CONNECT[s],
    ];
  });
  const table = markdownTable(
    [
      'System',
      { title: 'RSS KiB/idle conn', align: 'right' },
      { title: 'heap+external KiB/idle conn', align: 'right' },
      { title: 'server CPU µs/accept', align: 'right' },
      { title: 'accepts/s', align: 'right' },
      { title: 'connect p50 / p90 ms', align: 'right' },
      'connect = ',
    ],
    rows,
  );
  const ratio = (key, a, b) => (combined[a] && combined[b] ? combined[a][key].median / combined[b][key].median : NaN);
  const summary =
    `Switchboard / raw ws RSS per idle connection: ${fmt(ratio('rssKiBPerConn', 'switchboard', 'ws'))}×; ` +
    `accept CPU vs PeerJS: ${fmt(ratio('acceptCpuUs', 'switchboard', 'peerjs'))}×; accept rate vs PeerJS: ${fmt(ratio('acceptPerSecond', 'switchboard', 'peerjs'))}×.`;
  console.log(`\n${describeMachine(machine)}\n${opts.connections} connections, ${opts.runs} runs (median, min–max)\n\n${table}\n\n${summary}`);
  return { table, summary, machine, opts };
}

export function writeIdleDocs({ table, summary, machine, opts }) {
  const env =
    `Environment: ${describeMachine(machine)}; load average ${machine.loadAverage.join('/')} at the start, ` +
    `${(machine.loadAverageEnd ?? []).join('/')} at the end; commit ${machine.commit}` +
    `${machine.uncommittedFiles ? ` plus uncommitted changes in ${machine.uncommittedFiles} files` : ''}; ${machine.date.slice(0, 10)}; ${machine.seconds} s.`;
  const body = [
    `Measured by \`node bench/idle.mjs --write\` (after \`npx tsc -b packages/protocol packages/server\`): every system in the same run,`,
    `a fresh server child per system and run, all clients in the benchmark process (each process stays under`,
    `its 20,000 open files), 127.0.0.1 only, ${opts.runs} runs with the systems interleaved, medians (min–max).`,
    `${fmt(opts.connections)} idle connections per run, opened with at most ${opts.parallel} in progress; Switchboard in its`,
    `default configuration (resume on, heartbeat on) except the per-address connection limit (all clients share 127.0.0.1).`,
    '',
    `- **RSS, heap+external per idle connection**: growth of the server process's RSS and of V8 heap used + external`,
    `  (after \`gc()\`) from before to after opening the connections, divided by their number.`,
    `- **server CPU per accept**: the server process's user + system CPU time while they were opened, divided by their number`,
    `  (upgrade, token check, the welcome or its equivalent, the bookkeeping).`,
    `- **accepts/s**: connections over the wall time of opening them (client and server share the 2 cores).`,
    `- **connect**: ${opts.latency} connections one after another on the otherwise idle server, from nothing to ready, closed normally between.`,
    '',
    table,
    '',
    summary,
    '',
    env,
  ].join('\n');
  replaceSection(path.join(ROOT, 'docs', 'benchmarks.md'), IDLE_HEADING, body);
}
