/**
 * The report of bench/realtime.mjs: the markdown tables (medians over runs), the prose around
 * them, the "Reading" paragraphs, and the two sections it owns in docs/benchmarks.md. Kept apart
 * from the measuring code so --from-json can re-render a saved run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { replaceSection } from './docs.mjs';
import { describeMachine } from './env.mjs';
import { PAYLOAD_BYTES } from './realtime-scenarios.mjs';
import { ROOT, SYSTEMS } from './realtime-systems.mjs';
import { combineRuns } from './stats.mjs';
import { fmt, markdownTable } from './table.mjs';

const versionOf = (pkg) => {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
};

export function writeDocs(report) {
  const file = path.join(ROOT, 'docs', 'benchmarks.md');
  replaceSection(file, 'Realtime messaging', report.realtime, { intro: DOC_INTRO });
  replaceSection(file, 'Signaling relay', report.signaling, { intro: DOC_INTRO });
  console.error(`\nWrote the "Realtime messaging" and "Signaling relay" sections of ${path.relative(process.cwd(), file)}.`);
}

export function summaryLine(v) {
  return Object.entries(v)
    .map(([k, x]) => `${k}=${typeof x === 'number' ? fmt(x) : x}`)
    .join(' ');
}

const DOC_INTRO = `# Benchmarks

Speed and memory of Switchboard next to the alternatives, each measured with the same harness
against the alternatives in one run, reported as medians of several runs. Load tests talk to
loopback only (127.0.0.0/8), are bounded in count and time, and stop by themselves. Numbers from a
shared 2-core machine are noisy: compare systems within one table, not across runs or machines.

## How to run

\`\`\`sh
npx tsc -b packages/protocol packages/server packages/client   # the benchmarks import the built dist
node bench/realtime.mjs           # realtime messaging + signaling relay, 5 runs (~6 min here), updates this file
node bench/realtime.mjs --quick   # 3 smaller runs, prints only (--write to update this file)
\`\`\`

`;

export function printReport(results, opts, machine, { partial = false, failures = [] } = {}) {
  const combined = {};
  for (const [key, bySystem] of Object.entries(results)) {
    // Share of the windowed phase's wall time the server process was on a CPU (cpu / seconds).
    if (key.startsWith('fanout-')) {
      for (const runs of Object.values(bySystem)) for (const r of runs) r.serverBusy ??= (r.rate * r.serverCpuUsPerDelivery) / 1e6;
    }
    combined[key] = {};
    for (const [system, runs] of Object.entries(bySystem)) combined[key][system] = combineRuns(runs);
  }
  const get = (key, system, field) => combined[key]?.[system]?.[field];
  const med = (key, system, field, digits = 3) => fmt(get(key, system, field)?.median, digits);
  const runsOf = (key, system) => results[key]?.[system]?.length ?? 0;
  const ms = (key, system, field) => {
    const e = get(key, system, field);
    return e ? fmt(e.median, 2) : '–';
  };
  const rate = (key, system) => {
    const e = get(key, system, 'rate');
    if (!e) return '–';
    return e.n > 1 ? `${fmt(e.median / 1000, 3)}k (${fmt(e.min / 1000, 2)}k–${fmt(e.max / 1000, 2)}k)` : `${fmt(e.median / 1000, 3)}k`;
  };
  const label = (s) => SYSTEMS[s].label;
  const order = ['ws', 'switchboard', 'sdk', 'socketio', 'peerjs'].filter((s) => opts.systems.includes(s));
  const runsNote = (keys, systems) => {
    const counts = new Set(keys.flatMap((k) => systems.map((s) => runsOf(k, s))).filter((n) => n > 0));
    if (counts.size === 0) return '0';
    return counts.size === 1 ? `${[...counts][0]}` : `${Math.min(...counts)}–${Math.max(...counts)}`;
  };

  const fanoutRows = [];
  for (const [n] of opts.fanout) {
    const key = `fanout-${n}`;
    for (const s of order.filter((x) => SYSTEMS[x].scenarios.includes('fanout'))) {
      if (!results[key]?.[s]) continue;
      fanoutRows.push([
        label(s),
        n,
        rate(key, s),
        `${ms(key, s, 'p50')} / ${ms(key, s, 'p99')}`,
        `${ms(key, s, 'singleP50')} / ${ms(key, s, 'singleP99')}`,
        med(key, s, 'serverCpuUsPerDelivery'),
        `${Math.round((get(key, s, 'serverBusy')?.median ?? NaN) * 100)} %`,
      ]);
    }
  }
  const fanoutTable = markdownTable(
    [
      'System',
      { title: 'N', align: 'right' },
      { title: 'deliveries/s (min–max)', align: 'right' },
      { title: `p50 / p99 ms, window ${opts.window}`, align: 'right' },
      { title: 'p50 / p99 ms, one at a time', align: 'right' },
      { title: 'server CPU µs/delivery', align: 'right' },
      { title: 'server busy', align: 'right' },
    ],
    fanoutRows,
  );

  const kb = (key, system, field) => {
    const e = get(key, system, field);
    return e ? fmt(e.median / 1024, 2) : '–';
  };
  const dmRows = order
    .filter((s) => SYSTEMS[s].scenarios.includes('dm') && results.dm?.[s])
    .map((s) => [
      label(s),
      ms('dm', s, 'p50'),
      ms('dm', s, 'p99'),
      med('dm', s, 'serverCpuUsPerRoundTrip'),
      kb('dm', s, 'allocBytesPerRoundTrip'),
      ms('dm', s, 'stallMaxMs'),
    ]);
  const dmTable = markdownTable(
    [
      'System',
      { title: 'RTT p50 ms', align: 'right' },
      { title: 'RTT p99 ms', align: 'right' },
      { title: 'server CPU µs/round trip', align: 'right' },
      { title: 'heap KiB allocated/round trip', align: 'right' },
      { title: 'longest stall ms', align: 'right' },
    ],
    dmRows,
  );
  const lightTable = (key) =>
    markdownTable(
      [
        'System',
        { title: 'RTT p50 ms', align: 'right' },
        { title: 'RTT p99 ms', align: 'right' },
        { title: 'server CPU µs/message', align: 'right' },
        { title: 'heap KiB allocated/message', align: 'right' },
        { title: 'socket writes/message', align: 'right' },
        { title: 'longest stall ms', align: 'right' },
      ],
      order
        .filter((s) => results[key]?.[s])
        .map((s) => [
          s === 'switchboard' && key === 'light-signal' ? 'Switchboard (`rtc` description)' : s === 'peerjs' ? 'PeerJS server (`OFFER`/`ANSWER`)' : label(s),
          ms(key, s, 'p50'),
          ms(key, s, 'p99'),
          med(key, s, 'serverCpuUsPerMessage'),
          kb(key, s, 'allocBytesPerMessage'),
          med(key, s, 'writesPerMessage'),
          ms(key, s, 'stallMaxMs'),
        ]),
    );
  const lightIntro = (what) =>
    `**${what} at light load** (${opts.lightPairs} pairs, ${fmt(opts.lightRate)} round trips/s spread over them on a schedule, ${fmt(opts.lightRoundTrips)} measured round trips per run after a warm-up): ` +
    `round trip A → B → A; server CPU and heap allocation per relayed message (two per round trip); "socket writes": the server's write system calls per relayed message (\`/proc/self/io\`, Linux); "longest stall": the server's event loop's largest delay over the phase (monitorEventLoopDelay, 1 ms resolution).`;

  const memSystems = order.filter((s) => results.memory?.[s]);
  const memRow = (s) => [label(s), med('memory', s, 'heapKiBPerConn'), med('memory', s, 'rssKiBPerConn'), med('memory', s, 'baseRssMiB')];
  const memColumns = [
    'System',
    { title: 'heap+external KiB/conn', align: 'right' },
    { title: 'RSS KiB/conn', align: 'right' },
    { title: 'idle server RSS MiB', align: 'right' },
  ];
  const memTable = markdownTable(memColumns, memSystems.filter((s) => s !== 'peerjs').map(memRow));

  const sigRows = order
    .filter((s) => results.signal?.[s])
    .map((s) => [
      s === 'switchboard' ? 'Switchboard (`rtc` description)' : s === 'peerjs' ? 'PeerJS server (`OFFER`/`ANSWER`)' : label(s),
      ms('signal', s, 'p50'),
      ms('signal', s, 'p99'),
      med('signal', s, 'serverCpuUsPerMessage'),
      kb('signal', s, 'allocBytesPerMessage'),
      ms('signal', s, 'stallMaxMs'),
      results.memory?.[s] ? med('memory', s, 'heapKiBPerConn') : '–',
    ]);
  const sigTable = markdownTable(
    [
      'System',
      { title: 'one-way p50 ms', align: 'right' },
      { title: 'one-way p99 ms', align: 'right' },
      { title: 'server CPU µs/message', align: 'right' },
      { title: 'heap KiB allocated/message', align: 'right' },
      { title: 'longest stall ms', align: 'right' },
      { title: 'heap+external KiB/idle conn', align: 'right' },
    ],
    sigRows,
  );

  const fanoutSystems = order.filter((s) => SYSTEMS[s].scenarios.includes('fanout'));
  const versions = `ws ${versionOf('ws')}, socket.io ${versionOf('socket.io')} + socket.io-client ${versionOf('socket.io-client')} (websocket transport only), peer ${versionOf('peer')}`;
  const load = `load average ${machine.loadAverage.join('/')} at the start${machine.loadAverageEnd ? `, ${machine.loadAverageEnd.join('/')} at the end` : ''}`;
  const busyMachine = Math.max(...(machine.loadAverage ?? [0]), ...(machine.loadAverageEnd ?? [0])) > 4;
  const env =
    `${describeMachine(machine)}; ${load} (${busyMachine ? 'other test suites were running on the same 2 cores, so absolute numbers are pessimistic and noisy' : 'nothing else running'}); ` +
    `${opts.pin ? 'each server child pinned to a core of its own, the clients on the others (`--pin`); ' : ''}` +
    `commit ${machine.commit}${machine.uncommittedFiles ? ` with ${machine.uncommittedFiles} uncommitted file(s) under packages/*/src in the working tree` : ''}; ${versions}; ${machine.date.slice(0, 10)}${partial ? '; PARTIAL (overall timeout)' : ''}.`;
  const failureText = failures.length
    ? `\n\nFailed measurements (left out of the medians): ${failures.map((f) => `${f.system} ${f.key} run ${f.run + 1}: ${f.error}`).join('; ')}.`
    : '';

  const realtime = `Measured by \`bench/realtime.mjs\`: every system in the same run, each measurement against a fresh server in
its own child process (\`--expose-gc\`), all clients in the parent process (one clock for send and
receipt), 127.0.0.1 only, medians over ${runsNote(scenarioKeysFrom(opts), fanoutSystems)} runs with the systems interleaved.
Switchboard runs its default configuration (tls off, \`logLevel: 'silent'\`) except the per-connection
rate limit, raised from 50 to 10⁶ messages/s so one sender can post faster than 50/s.

Environment: ${env}

**Group broadcast fan-out.** N clients in one group (room); one of them posts M ~${PAYLOAD_BYTES}-byte JSON
messages to the group (${opts.fanout.map(([n, m]) => `N = ${n}: M = ${m}, ${fmt(n * m)} deliveries`).join('; ')}), at most
${opts.window} messages not yet delivered to all N at a time (flow control: nothing is dropped, and every
delivery is counted and checked); every system delivers to the sender too. Latency is receipt time
minus the send time carried in the payload: with the window it includes queueing behind up to
${opts.window}×N deliveries; "one at a time" is a separate phase of ${opts.singleMessages} messages with a window of 1
(the fan-out itself). Server CPU: the server process's user+system time over the windowed phase
divided by its deliveries; "server busy": that CPU time divided by the phase's wall time. A warm-up phase (M/2 messages, so the JIT has settled) precedes the measurements.

${fanoutTable}

**Direct message round trip** (A → B → A, ~${PAYLOAD_BYTES} bytes, one message in flight, ${opts.dmRoundTrips} measured round trips per run after ${opts.warmup} for warm-up; server CPU over the measured ones).
Switchboard: \`post\` to the peer's \`cid:…\`; Socket.IO: \`io.to(socketId).emit\`; ws floor: forward by id.

${dmTable}
${
  results['light-dm']
    ? `
${lightIntro('Direct messages')} ~${PAYLOAD_BYTES}-byte messages as above.

${lightTable('light-dm')}
`
    : ''
}
Heap allocated: V8 heap bytes allocated in the server process over the measured phase (its growth plus what each GC freed, from \`v8.GCProfiler\`), per round trip or message; Buffers over 4 KB live outside the V8 heap and are not in it.

**Memory per idle connection**: growth of the server's heap+external and RSS after connecting
${opts.memoryClients} clients (welcomed, in no group), measured after \`gc()\` in the server process, divided by ${opts.memoryClients}.

${memTable}${failureText}

${readings(combined, opts, machine).realtime}`;

  const signaling = `The same run, the same method. A ~4 KB SDP (offer, then the answer back) relayed A → B → A …,
one message in flight, ${opts.signalHops} measured hops per run after ${opts.warmup} for warm-up; one-way latency per hop (receipt minus send, one clock).
Switchboard: an \`rtc\` \`description\` signal inside a call that was invited and accepted (both in one
group), sent with an \`id\` (acked) as the SDK does; PeerJS server (\`peer\` ${versionOf('peer')}): \`OFFER\`/\`ANSWER\`
frames over its websocket protocol (\`/peerjs?key=peerjs&id=…&token=…\`) with the payload the peerjs client
sends; Socket.IO and the ws floor: the same SDP as a direct message. Idle-connection memory as above.

${sigTable}
${
  results['light-signal']
    ? `
${lightIntro('Signals')} The same ~4 KB offer and answer as above.

${lightTable('light-signal')}
`
    : ''
}
${readings(combined, opts, machine).signaling}`;

  console.log('\n## Realtime messaging\n');
  console.log(realtime);
  console.log('\n## Signaling relay\n');
  console.log(signaling);
  return { realtime, signaling };
}

function scenarioKeysFrom(opts) {
  return opts.fanout.map(([n]) => `fanout-${n}`);
}

/**
 * The paragraph under each section: the comparisons are computed from this run's medians; the
 * explanations come from the server code and CPU profiles (bench/lib/cpuprofile.mjs), which do
 * not change from run to run.
 */
function readings(combined, opts, machine) {
  const m = (key, system, field) => combined[key]?.[system]?.[field]?.median;
  const pct = (a, b) => (a === undefined || b === undefined ? null : Math.round((a / b) * 100));
  const ms2 = (x) => (x === undefined ? '?' : fmt(x, 2));
  const fanoutKeys = opts.fanout.map(([n]) => [n, `fanout-${n}`]);
  const ratePct = (system) => fanoutKeys.map(([n, k]) => `${pct(m(k, system, 'rate'), m(k, 'ws', 'rate')) ?? '?'} % at N = ${n}`).join(', ');
  const cpu = (system) => fanoutKeys.map(([, k]) => fmt(m(k, system, 'serverCpuUsPerDelivery'), 2)).join(' / ');
  const parts = [];

  const spreadOf = (system) =>
    Math.max(
      ...fanoutKeys.map(([, k]) => {
        const e = combined[k]?.[system]?.rate;
        return e ? e.max / e.min : 1;
      }),
    );
  const worstSpread = Math.max(...['ws', 'switchboard', 'sdk', 'socketio'].map(spreadOf));
  const cpuDelta = (system) =>
    fanoutKeys
      .map(([, k]) => {
        const d = pct(m(k, system, 'serverCpuUsPerDelivery'), m(k, 'ws', 'serverCpuUsPerDelivery'));
        return d === null ? '?' : `${d - 100 >= 0 ? '+' : ''}${d - 100} %`;
      })
      .join(' / ');
  const sbBelowFloor = fanoutKeys.every(([, k]) => m(k, 'switchboard', 'serverCpuUsPerDelivery') < m(k, 'ws', 'serverCpuUsPerDelivery'));
  const sdkRate = fanoutKeys.map(([, k]) => pct(m(k, 'sdk', 'rate'), m(k, 'switchboard', 'rate')));
  const busy = fanoutKeys.flatMap(([, k]) => ['ws', 'switchboard', 'sdk', 'socketio'].map((x) => m(k, x, 'serverBusy'))).filter((x) => x !== undefined);
  const busyMin = Math.min(...busy);
  const busyMax = Math.max(...busy);
  parts.push(
    `**Reading.** ${
      Math.max(...(machine.loadAverage ?? [0]), ...(machine.loadAverageEnd ?? [0])) > 4
        ? 'Loopback numbers on a busy 2-core machine: the server, all clients and other test runs shared the cores. '
        : 'Loopback numbers on a 2-core machine with nothing else running: the server and all clients share the two cores. '
    }` +
      `*Fan-out:* the steadiest comparison is server CPU per delivery: ${cpu('switchboard')} µs for Switchboard vs ${cpu('ws')} µs for the raw ws floor (${cpuDelta('switchboard')}) and ${cpu('socketio')} µs for Socket.IO (${cpuDelta('socketio')}) at N = ${fanoutKeys.map(([n]) => n).join(' / ')}. ` +
      `${
        worstSpread > 1.5
          ? `The wall-clock delivery rates varied from run to run (a system's slowest run was up to ${fmt(worstSpread, 2)}× slower than its fastest, see the min–max), so their medians (Switchboard ${ratePct('switchboard')} of the floor's, Socket.IO ${ratePct('socketio')}) do not rank the systems reliably in this run. `
          : `Median delivery rates: Switchboard ${ratePct('switchboard')} of the floor's, Socket.IO ${ratePct('socketio')}. `
      }` +
      `${
        busyMax < 0.85
          ? `No server was saturated (busy ${Math.round(busyMin * 100)}–${Math.round(busyMax * 100)} % of the wall time, medians): the rates were bounded by the client process, which hosts all N receivers and parses every delivery, and by the shared cores, more than by the servers. `
          : ''
      }` +
      `Broadcast cost is dominated by the kernel's \`writev\`: ws writes every frame on its own, so the floor and Socket.IO make one system call per recipient per message (before Switchboard batched its writes, about 60 % of its server's CPU samples were in \`writev\`). ` +
      `Switchboard corks each socket from the first frame it gets in an event-loop tick to the end of that tick (\`Connection.send\`), so everything one socket gets in a tick (with ${opts.window} messages in flight often several broadcasts; for the sender, its own copy and the ack) leaves in one \`writev\`; ` +
      `${
        sbBelowFloor
          ? `that is why it spends less CPU per delivery than the floor here, which is a floor for unbatched writes only (an experiment that corked the floor's sockets the same way brought it to a similar ~3–4 µs per delivery; the floor and Socket.IO are measured as they ship). `
          : `that saving is set against its own per-message work (below), which the floor does not do. `
      }` +
      `Switchboard's per-message work (JSON parse and valibot validation of the \`post\`, a store lookup of the sender's group, one JSON.stringify shared by all recipients, the ack to the sender) is paid once per message and spread over N deliveries, and its own per-recipient code (delivery lookup, a metrics counter, the cork, the slow-consumer check) is a few per cent of the samples. ` +
      `With the Node SDK as the client the server does the same work (${cpu('sdk')} µs per delivery); ` +
      `${
        worstSpread <= 1.5 && sdkRate.some((r) => r !== null && r < 85)
          ? `its delivery rate was ${sdkRate.map((r) => `${r ?? '?'} %`).join(' / ')} of the wire client's where the SDK was the bottleneck: it decodes and validates every incoming frame against the protocol schemas, and here one process hosts all N receivers (in an app each receiver has its own).`
          : `its delivery rate was ${sdkRate.map((r) => `${r ?? '?'} %`).join(' / ')} of the wire client's, within the noise of this run; the SDK's extra work (decoding and validating every incoming frame against the protocol schemas) is client CPU, which this table does not show.`
      }`,
  );
  const dmCpu = (system) => m('dm', system, 'serverCpuUsPerRoundTrip');
  const light = (key, system, field) => m(key, system, field);
  parts.push(
    `*Direct messages:* one at a time, the round trip p50 was ${ms2(m('dm', 'switchboard', 'p50'))} ms for Switchboard (wire) vs ${ms2(m('dm', 'ws', 'p50'))} ms for the floor and ${ms2(m('dm', 'socketio', 'p50'))} ms for Socket.IO, ` +
      `and the server spent ${fmt(dmCpu('switchboard'), 3)} µs of CPU per round trip vs ${fmt(dmCpu('ws'), 3)} µs (floor) and ${fmt(dmCpu('socketio'), 3)} µs (Socket.IO)` +
      `${light('light-dm', 'switchboard', 'serverCpuUsPerMessage') !== undefined ? `; at light load ${fmt(light('light-dm', 'switchboard', 'serverCpuUsPerMessage'), 3)} µs per relayed message vs ${fmt(light('light-dm', 'ws', 'serverCpuUsPerMessage'), 3)} µs (floor) and ${fmt(light('light-dm', 'socketio', 'serverCpuUsPerMessage'), 3)} µs (Socket.IO), p99 ${ms2(light('light-dm', 'switchboard', 'p99'))} ms vs ${ms2(light('light-dm', 'ws', 'p99'))} and ${ms2(light('light-dm', 'socketio', 'p99'))} ms, longest stall ${ms2(light('light-dm', 'switchboard', 'stallMaxMs'))} ms` : ''}. ` +
      `Nothing is amortized over recipients here. A post to a \`cid:…\` whose connections are both on this node runs synchronously when the sender's queue is idle (\`handlers/fast.ts\`): the frame is parsed and validated, both connections are looked up in the memory store without a copy or a promise, the \`private\` frame is serialized once and written with the recipient's seq in front, appended by reference to its replay ring, and the ack goes out in the same tick. ` +
      `Switchboard still does more than the floor and Socket.IO: the validation, the numbering for resume, and the ack, a second frame and a second \`writev\` per message (to the sender's socket; the relayed frame goes to the recipient's) that the floor and Socket.IO, which have no acknowledgements, do not send. The SDK client (validation on both ends, promise-based requests) measured ${ms2(m('dm', 'sdk', 'p50'))} ms one at a time.`,
  );
  parts.push(
    `*Memory:* an idle Switchboard connection cost ${fmt(m('memory', 'switchboard', 'heapKiBPerConn'), 2)} KiB of heap+external (${fmt(m('memory', 'switchboard', 'rssKiBPerConn'), 2)} KiB RSS) vs ${fmt(m('memory', 'ws', 'heapKiBPerConn'), 2)} KiB (${fmt(m('memory', 'ws', 'rssKiBPerConn'), 2)} KiB RSS) for the bare ws floor and ${fmt(m('memory', 'socketio', 'heapKiBPerConn'), 2)} KiB (${fmt(m('memory', 'socketio', 'rssKiBPerConn'), 2)} KiB RSS) for Socket.IO: ` +
      `on top of the ws socket it keeps a \`Connection\` (token bucket, violation window, a token-expiry timer, a promise queue), a store record (copied user), a delivery entry and a heartbeat entry. RSS per connection is noisier than heap (allocator pages).`,
  );
  const realtime = parts.join('\n\n');

  const sig = (system, field) => m('signal', system, field);
  const ls = (system, field) => m('light-signal', system, field);
  const verdict = (ok) => (ok === undefined ? 'not measured' : ok ? '**met**' : '**not met**');
  const cmp = (a, b, limit) => (a === undefined || b === undefined ? undefined : a <= limit * b);
  const ratio = (a, b) => (a === undefined || b === undefined ? '?' : `${fmt(a / b, 2)}×`);
  const lightMeasured = ls('switchboard', 'serverCpuUsPerMessage') !== undefined;
  const stall = lightMeasured ? Math.max(ls('switchboard', 'stallMaxMs'), m('light-dm', 'switchboard', 'stallMaxMs') ?? 0) : undefined;
  const load = Math.max(...(machine.loadAverage ?? [0]), ...(machine.loadAverageEnd ?? [0]));
  const overloaded =
    load > 4
      ? `This run's machine was far from quiet (load average up to ${fmt(load, 2)} on ${machine.cpuCount ?? 2} cores, from other test suites): the latencies and the stalls above measure mostly how long each process waited for a core (all the clients share one process, and a descheduled server shows as a stalled event loop), so only the CPU and allocation figures compare the servers; the latency and stall targets cannot be judged from this run. `
      : '';
  const judged = (ok) => (load > 4 ? 'not judged (machine overloaded, see below)' : verdict(ok));
  const targets = lightMeasured
    ? `Against the targets, at light load (Switchboard vs the PeerJS server, medians of this run): ` +
      `server CPU per relayed signal ${fmt(ls('switchboard', 'serverCpuUsPerMessage'), 3)} vs ${fmt(ls('peerjs', 'serverCpuUsPerMessage'), 3)} µs (${ratio(ls('switchboard', 'serverCpuUsPerMessage'), ls('peerjs', 'serverCpuUsPerMessage'))}, target ≤ 1×): ${verdict(cmp(ls('switchboard', 'serverCpuUsPerMessage'), ls('peerjs', 'serverCpuUsPerMessage'), 1))}; ` +
      `round trip p99 ${ms2(ls('switchboard', 'p99'))} vs ${ms2(ls('peerjs', 'p99'))} ms (target ≤ 2×): ${judged(cmp(ls('switchboard', 'p99'), ls('peerjs', 'p99'), 2))}; ` +
      `longest event-loop stall ${ms2(stall)} ms over the light-load phases (target ≤ 10 ms): ${judged(stall === undefined ? undefined : stall <= 10)}; ` +
      `heap allocated per relayed signal ${fmt(ls('switchboard', 'allocBytesPerMessage') / 1024, 2)} vs ${fmt(ls('peerjs', 'allocBytesPerMessage') / 1024, 2)} KiB (target ≤ 1×): ${verdict(cmp(ls('switchboard', 'allocBytesPerMessage'), ls('peerjs', 'allocBytesPerMessage'), 1))}. `
    : '';
  const signaling =
    `**Reading.** ${targets}${overloaded}One at a time, Switchboard's one-way p50 was ${ms2(sig('switchboard', 'p50'))} ms vs ${ms2(sig('peerjs', 'p50'))} ms for the PeerJS server ` +
    `(${ms2(sig('ws', 'p50'))} ms for the floor, ${ms2(sig('socketio', 'p50'))} ms for Socket.IO), and it used ${fmt(sig('switchboard', 'serverCpuUsPerMessage'), 3)} µs of server CPU per relayed message vs ${fmt(sig('peerjs', 'serverCpuUsPerMessage'), 3)} µs for PeerJS (${ratio(sig('switchboard', 'serverCpuUsPerMessage'), sig('peerjs', 'serverCpuUsPerMessage'))}) and ${fmt(sig('ws', 'serverCpuUsPerMessage'), 3)} µs for the floor. ` +
    `PeerJS parses the frame, sets \`src\` and re-stringifies it. Switchboard keeps every check: the frame is parsed and validated against the protocol schema (the SDP only for its type and length: it is never parsed), the two connections' right to signal each other is checked (same group, same user, or a call between them), call state is tracked (invite, accept, reject and hang-up take the async path through the call registry; a description or a candidate changes no state and is relayed synchronously when both connections are local and the sender's queue is idle), the relayed frame is numbered for resume and appended by reference to the recipient's replay ring, and the sender gets an ack. ` +
    `The ack is work PeerJS does not do: a frame of its own, numbered and buffered, on the sender's socket, in its own \`writev\` unless another frame for that socket comes within \`rtc.ackDelayMs\` (20 ms; the caller's ack usually rides with the answer). In side runs (2026-12-03, the server on its own core), signals sent without an \`id\` (no ack) cost about a quarter less server CPU (75–77 vs 92–93 µs per message); the rest of the difference is per-message work in JavaScript and the garbage it leaves. Per relayed signal that is one JSON.parse, the schema check, one JSON.stringify of the outgoing frame, its UTF-8 write with the seq in front, the replay-ring append, the ack (a small frame, numbered and buffered too), the metrics counters and Node's stream bookkeeping for two corked writes; an allocation profile of the direct-message path (V8 sampling heap profiler, collected objects included) spreads its extra KiB per message over these rather than one hot spot. ` +
    `Timings at this size are dominated by loopback syscalls and scheduling on the shared cores, so p99s in particular move from run to run.`;
  return { realtime, signaling };
}
