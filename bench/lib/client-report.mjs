/** The "Client SDK" section of docs/benchmarks.md from bench/client.mjs's results. */
import { describeMachine } from './env.mjs';
import { CAMERA_MS } from './client-scenarios.mjs';
import { median, summarize } from './stats.mjs';
import { markdownTable } from './table.mjs';

const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const spread = (values, d = 1) => (values.length > 1 ? `${f(median(values), d)} (${f(Math.min(...values), d)}–${f(Math.max(...values), d)})` : f(values[0], d));

export function renderClientReport(results, opts, machine) {
  const parts = [];
  parts.push(
    `Measured with \`node bench/client.mjs\` (${opts.runs} runs, systems interleaved, medians over runs; min–max in parentheses) on ${describeMachine(machine)}, ` +
      `load average ${machine.loadAverage.join(' ')} at the start, commit ${machine.commit}${machine.uncommittedFiles ? ` plus uncommitted changes` : ''}. ` +
      'Every client runs in the benchmark process, every server in a child process, all on 127.0.0.1.',
  );
  const wire = results.throughput.switchboard ?? [];
  const sdk = results.throughput.sdk ?? [];
  const before = results.throughput['sdk-before'] ?? [];
  if (wire.length && sdk.length) {
    // Each SDK run against the wire client's run of the same round (by index when runs are not numbered).
    const sameRun = (s, i) => (s.run === undefined ? wire[i] : wire.find((w) => w.run === s.run));
    const ratios = sdk.map((s, i) => (sameRun(s, i) ? s.rate / sameRun(s, i).rate : NaN)).filter(Number.isFinite);
    parts.push(
      `### Node SDK as a client\n\nTwo clients relay ~200-byte direct messages on one server (A → B, B echoes each back to A), ${opts.window} round trips in flight, ` +
        `${opts.relayCount.toLocaleString('en')} round trips measured after ${opts.warmup.toLocaleString('en')} of warm-up. Client CPU is the benchmark process's (both clients).`,
    );
    const row = (label, runs) => [
      label,
      spread(
        runs.map((r) => r.rate / 1000),
        1,
      ) + 'k',
      f(median(runs.map((r) => r.clientCpuUsPerMessage))),
      f(median(runs.map((r) => r.serverCpuUsPerMessage))),
    ];
    parts.push(
      markdownTable(
        ['client', 'messages/s', 'client CPU µs/message', 'server CPU µs/message'],
        [
          row('bare wire client (`ws`, JSON.parse, a switch)', wire),
          row('Node SDK (postRealtime, realtime callback)', sdk),
          ...(before.length ? [row(`Node SDK, ${opts.beforeLabel}`, before)] : []),
        ],
      ),
    );
    parts.push(`SDK / bare wire throughput, median of the per-run ratios: **${f(median(ratios), 2)}×** (runs: ${ratios.map((r) => f(r, 2)).join(', ')}).`);
    if (before.length) {
      const old = before.map((s, i) => (sameRun(s, i) ? s.rate / sameRun(s, i).rate : NaN)).filter(Number.isFinite);
      parts.push(`The ${opts.beforeLabel}: **${f(median(old), 2)}×** (runs: ${old.map((r) => f(r, 2)).join(', ')}).`);
    }
  }
  const connect = results.connect;
  if (Object.keys(connect).length) {
    const labels = {
      sdk: '`connectRealtime` as a guest (token request, socket, welcome)',
      'sdk-before': `the same, ${opts.beforeLabel}`,
      'sdk-token': '`connectRealtime` with a token (socket, welcome)',
      ws: 'raw `ws` socket to the floor server (open, its welcome)',
      peerjs: 'PeerJS server (socket, OPEN)',
    };
    parts.push(
      `### Connecting\n\nOne connection at a time, from the call until it can be used. *First*: the first connection of a fresh process ` +
        `(library imported, nothing else run yet), median over runs. *Warm*: ${opts.connects} connections per run after that; medians over runs of each run's p50 and p90.`,
    );
    const rows = Object.keys(labels)
      .filter((k) => connect[k])
      .map((k) => {
        const runs = connect[k];
        const p50 = runs.map((r) => summarize(r.samples).p50);
        const p90 = runs.map((r) => summarize(r.samples).p90);
        return [labels[k], spread(runs.map((r) => r.first)), spread(p50), f(median(p90))];
      });
    parts.push(markdownTable(['connection', 'first in a process, ms', 'warm p50, ms', 'warm p90, ms'], rows));
    const steps = (connect.sdk ?? []).flatMap((r) => r.steps);
    if (steps.length) {
      const names = Object.keys(steps[0]);
      const stepRows = names.map((name) => [name, f(median(steps.map((s) => s[name]).filter((v) => v !== undefined)), 2)]);
      parts.push(
        'Where a warm guest `connectRealtime` spends its time (medians of all warm connections; client marks in the benchmark process, ' +
          '"server:" rows from the arrival times the server child marks, on the same wall clock):',
      );
      parts.push(markdownTable(['step', 'ms'], stepRows));
    }
  }
  if (results.ring.length) {
    parts.push(
      `### Time to ring\n\n\`connectRTC\` until the callee's callback gets \`rtc:incoming\` (Node SDK on both sides, data call, ${opts.rings} calls per run, each hung up by the callee), ` +
        `without media and with a camera (getUserMedia) that takes ${CAMERA_MS} ms to open: the invite goes out while the camera opens.`,
    );
    parts.push(
      markdownTable(
        ['call', 'time to ring, ms (median over runs of the p50)'],
        [
          ['no media', spread(results.ring.map((r) => r.ringMs))],
          [`camera opening in ${CAMERA_MS} ms`, spread(results.ring.map((r) => r.ringWithCameraMs))],
        ],
      ),
    );
  }
  return parts.join('\n\n');
}
