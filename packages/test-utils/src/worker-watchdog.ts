/**
 * A watchdog for a test worker whose event loop stops for good, e.g. a native deadlock in
 * node-datachannel: no test timeout can fire then, and the whole run would wait until CI gives
 * up. A thread of its own watches a heartbeat the main thread ticks every second; when the
 * heartbeat stops for `limitMs`, it writes the native stacks (gdb) and the file to stderr and
 * kills the process, so the runner reports this worker as crashed and goes on with the rest.
 */
import { Worker } from 'node:worker_threads';

const STARTED = Symbol.for('switchboard.worker-watchdog');

// Evaluated in the watchdog thread, as CommonJS or as a module depending on the main script, so it
// takes built-ins with getBuiltinModule. Its console would go through the blocked main thread, so
// it writes to fd 2 itself.
const WATCHDOG = `
const { workerData, parentPort } = process.getBuiltinModule('node:worker_threads');
const { execFileSync } = process.getBuiltinModule('node:child_process');
const { writeSync } = process.getBuiltinModule('node:fs');
const { beat, limitMs } = workerData;
let label = workerData.label;
parentPort.on('message', (next) => (label = next)).unref();
let last = Atomics.load(beat, 0);
let since = Date.now();
setInterval(() => {
  const now = Atomics.load(beat, 0);
  if (now !== last) {
    last = now;
    since = Date.now();
    return;
  }
  if (Date.now() - since < limitMs) return;
  let stacks = '';
  try {
    stacks = execFileSync('gdb', ['-p', String(process.pid), '-batch', '-ex', 'thread apply all bt 10'], { encoding: 'utf8', timeout: 30000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (err) {
    stacks = 'no stacks (gdb: ' + err.message + ')';
  }
  writeSync(2, '\\n[watchdog] ' + label + ': the event loop of test worker ' + process.pid + ' has not run for ' + Math.round((Date.now() - since) / 1000) + ' s; killing it.\\n' + stacks + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, 1000);
`;

/**
 * Starts the watchdog once per process; `label` names what runs there now (the test file). A
 * worker process that runs several files calls it once per file: the label follows.
 */
export function startWorkerWatchdog(limitMs: number, label: string): void {
  const flags = globalThis as Record<symbol, Worker | undefined>;
  const running = flags[STARTED];
  if (running) return running.postMessage(label);
  const beat = new Int32Array(new SharedArrayBuffer(4));
  setInterval(() => Atomics.add(beat, 0, 1), 1_000).unref();
  const watchdog = new Worker(WATCHDOG, { eval: true, workerData: { beat, limitMs, label } });
  watchdog.unref();
  flags[STARTED] = watchdog;
}
