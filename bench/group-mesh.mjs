#!/usr/bin/env node
/**
 * Group calls (full mesh, `@switchboard/client/group`): per-page CPU and send/receive bitrate for
 * calls of 2, 3, 4 and 6 Chromium pages with the fake camera. Medians of several runs, the sizes
 * interleaved (the order rotates each run).
 *
 *   npm run build                      # the benchmark imports the built server and browser bundle
 *   node bench/group-mesh.mjs          # 3 runs of 2/3/4/6 peers, 10 s windows (~11 min on a loaded 2-core machine); prints a markdown table
 *   node bench/group-mesh.mjs --write  # … and replaces "## Group calls (mesh)" in docs/benchmarks.md
 *   options: --runs R, --sizes 2,3,4,6, --window S, --warmup S, --width W --height H --fps F, --json FILE
 *
 * Needs root: it re-runs itself under `ip netns exec` in a fresh network namespace holding only
 * `lo` (testing-webrtc.md), where the server (this process, 127.0.0.1) and one headless Chromium run;
 * the namespace is deleted at the end. Each page has its own browser context, hence its own
 * renderer process. Per mesh: the pages join one after another; once every page is connected to
 * all others and has decoded 10 frames from each, a warm-up (bandwidth estimation ramps up), then
 * the measured window:
 *  - per-page CPU: the renderer's CPU time over the window (CDP Performance.getMetrics ProcessTime:
 *    user + system of the whole renderer process, whose threads encode and decode the video),
 *    as % of one core; the mean over the pages;
 *  - whole browser: utime + stime of every Chromium process (/proc/<pid>/stat: browser, GPU,
 *    network and capture services, renderers) over the window, divided by the number of pages;
 *  - send / receive kbps: deltas of getStats outbound-rtp bytesSent and inbound-rtp bytesReceived
 *    (RTP payload, headers excluded) summed over the page's peer connections, over the window.
 */
import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchChromium } from '@switchboard/test-utils';
import { withTimeout } from './lib/async.mjs';
import { replaceSection } from './lib/docs.mjs';
import { describeMachine, machineInfo } from './lib/env.mjs';
import { descendantsCpu, pageCpu, startStack } from './lib/group-mesh-stack.mjs';
import { combineRuns } from './lib/stats.mjs';
import { markdownTable } from './lib/table.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    sizes: { type: 'string', default: '2,3,4,6' },
    window: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '5' },
    width: { type: 'string', default: '320' },
    height: { type: 'string', default: '240' },
    fps: { type: 'string', default: '15' },
    write: { type: 'boolean', default: false },
    json: { type: 'string' },
    inside: { type: 'boolean', default: false },
  },
});
const RUNS = Math.max(1, Number(opts.runs));
const SIZES = opts.sizes
  .split(',')
  .map(Number)
  .filter((n) => n >= 2 && n <= 6);
const WINDOW_MS = Number(opts.window) * 1000;
const WARMUP_MS = Number(opts.warmup) * 1000;
const MEDIA = { audio: false, video: { width: { exact: Number(opts.width) }, height: { exact: Number(opts.height) }, frameRate: { exact: Number(opts.fps) } } };
const MESH_TIMEOUT_MS = 180_000; // joining and connecting one mesh; the window comes on top
const HEADING = '## Group calls (mesh)';

async function main() {
  const loadStart = os.loadavg();
  const stack = await startStack(ROOT);
  const browser = await launchChromium(); // already inside the namespace: no wrapper
  const chromiumVersion = browser.version();
  const runs = Object.fromEntries(SIZES.map((n) => [n, []]));
  let settings = null;
  const failures = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      for (let i = 0; i < SIZES.length; i++) {
        const n = SIZES[(i + run) % SIZES.length];
        let row;
        try {
          row = await measureMesh(browser, stack.url, n, `mesh-${n}-${run}`);
        } catch (error) {
          // Reported (the table says how many runs made it); the other sizes still run.
          failures.push(`${n} peers, run ${run + 1}: ${error.message.split('\n')[0]}`);
          console.error(`run ${run + 1}/${RUNS}, ${n} peers: FAILED ${error.message}`);
          continue;
        }
        settings ??= row.settings;
        delete row.settings;
        runs[n].push(row);
        console.error(`run ${run + 1}/${RUNS}, ${n} peers: ${JSON.stringify(row)}`);
      }
    }
  } finally {
    await browser.close();
    await stack.close();
  }
  const loadEnd = os.loadavg();
  const report = render(runs, settings, loadStart, loadEnd, chromiumVersion, failures);
  console.log(report);
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ runs, settings, loadStart, loadEnd, failures }, null, 2));
  if (opts.write) {
    replaceSection(path.join(ROOT, 'docs', 'benchmarks.md'), HEADING, report, { intro: '# Benchmarks\n' });
    console.error('docs/benchmarks.md: "Group calls (mesh)" updated');
  }
}

async function measureMesh(browser, url, n, group) {
  const pages = [];
  try {
    await withTimeout(
      (async () => {
        for (let i = 0; i < n; i++) {
          const context = await browser.newContext();
          const page = await context.newPage();
          const cdp = await context.newCDPSession(page);
          await cdp.send('Performance.enable');
          pages.push({ context, page, cdp });
          await page.goto(`${url}/mesh.html`);
          await page.waitForFunction('window.__ready === true');
          await page.evaluate(([g, name]) => window.m.connect(g, name), [group, `p${i}`]);
        }
        // One after another, as people arrive (simultaneous joins are the SDK tests' business).
        for (const p of pages) await p.page.evaluate((media) => window.m.join(media), MEDIA);
        await Promise.all(pages.map((p) => p.page.waitForFunction((others) => window.m.ready(10, others), n - 1, { timeout: MESH_TIMEOUT_MS, polling: 200 })));
      })(),
      MESH_TIMEOUT_MS,
      `a mesh of ${n}`,
    );
    await sleep(WARMUP_MS);
    const sample = () => Promise.all(pages.map(async (p) => ({ cpu: await pageCpu(p.cdp), ...(await p.page.evaluate(() => window.m.bytes())) })));
    const before = await sample();
    const browserBefore = descendantsCpu();
    const wallBefore = performance.now();
    await sleep(WINDOW_MS);
    const after = await sample();
    const browserAfter = descendantsCpu();
    const wallSeconds = (performance.now() - wallBefore) / 1000;
    const perPage = after.map((a, i) => {
      const b = before[i];
      const seconds = (a.at - b.at) / 1000;
      return {
        cpu: ((a.cpu - b.cpu) / seconds) * 100,
        send: ((a.sent - b.sent) * 8) / seconds / 1000,
        recv: ((a.received - b.received) * 8) / seconds / 1000,
        fps: (a.framesDecoded - b.framesDecoded) / seconds / (n - 1),
      };
    });
    const mean = (key) => perPage.reduce((s, p) => s + p[key], 0) / perPage.length;
    const pcs = await Promise.all(pages.map((p) => p.page.evaluate(() => window.m.openPcs())));
    return {
      cpu: mean('cpu'),
      send: mean('send'),
      recv: mean('recv'),
      fps: mean('fps'),
      browserCpu: (((browserAfter.total - browserBefore.total) / wallSeconds) * 100) / n,
      renderersProc: (((browserAfter.renderers - browserBefore.renderers) / wallSeconds) * 100) / n,
      pcs: Math.min(...pcs),
      pcsMax: Math.max(...pcs),
      minSend: Math.min(...perPage.map((p) => p.send)),
      minRecv: Math.min(...perPage.map((p) => p.recv)),
      settings: await pages[0].page.evaluate(() => window.m.settings()),
    };
  } finally {
    await Promise.all(pages.map((p) => p.page.evaluate(() => window.m.leave()).catch(() => undefined)));
    await Promise.all(pages.map((p) => p.context.close().catch(() => undefined)));
  }
}

function render(runs, settings, loadStart, loadEnd, chromiumVersion, failures) {
  const load = (l) => l.map((x) => x.toFixed(2)).join('/');
  const shared = Math.max(...loadStart, ...loadEnd) > 2;
  const env = machineInfo({ cwd: ROOT, paths: ['packages/client/src'] });
  const cam = settings ? `${settings.width}×${settings.height} at ${settings.frameRate} fps` : `${opts.width}×${opts.height} at ${opts.fps} fps (requested)`;
  const cell = (c, digits = 0) =>
    !c ? 'n/a' : c.n > 1 && c.min !== c.max ? `${c.median.toFixed(digits)} (${c.min.toFixed(digits)}–${c.max.toFixed(digits)})` : c.median.toFixed(digits);
  const rows = SIZES.map((n) => {
    const c = combineRuns(runs[n]);
    return [n, cell(c.cpu), cell(c.send), cell(c.recv), cell(c.pcs), cell(c.browserCpu), cell(c.fps, 1)];
  });
  const table = markdownTable(
    [
      'peers',
      { title: 'per-page CPU (% of one core)', align: 'right' },
      { title: 'per-page send kbps', align: 'right' },
      { title: 'per-page receive kbps', align: 'right' },
      { title: 'peer connections per page', align: 'right' },
      { title: 'whole browser CPU per page (%)', align: 'right' },
      { title: 'decoded fps per stream', align: 'right' },
    ],
    rows,
  );
  return [
    'Run: `node bench/group-mesh.mjs --write` after `npm run build` (as root: it makes its own loopback-only',
    'network namespace and deletes it at the end; about 11 minutes on this loaded machine).',
    '',
    `Measured by \`bench/group-mesh.mjs\`: N headless Chromium pages (one browser, one context and so one renderer`,
    `process per page) in one group call through the server (in the benchmark process), video only from Chromium's`,
    `fake camera at ${cam} (requested exactly), no audio, one VP8 encoder per peer connection (a mesh encodes once`,
    `per peer). The pages join one after another; once each has decoded 10 frames from every other, a ${WARMUP_MS / 1000} s warm-up,`,
    `then a ${WINDOW_MS / 1000} s window. Medians over ${RUNS} runs with the sizes interleaved (min–max in brackets); each run's figure`,
    'is the mean over its pages.',
    '',
    "- **per-page CPU**: the renderer process's CPU time (CDP `Performance.getMetrics` `ProcessTime`: user + system, all",
    '  threads, so the WebRTC encoders and decoders) over the window, as % of one core.',
    '- **whole browser CPU per page**: utime + stime (`/proc/<pid>/stat`) of every Chromium process (browser, GPU,',
    '  network and video capture services, renderers) over the window, divided by N.',
    '- **send / receive kbps**: deltas of getStats `outbound-rtp` `bytesSent` and `inbound-rtp` `bytesReceived` (RTP payload,',
    "  headers excluded) summed over the page's peer connections. Loopback has no bandwidth limit: the rates are what",
    '  the encoder chose for this resolution, or less when CPU adaptation scaled it down.',
    '',
    table,
    '',
    ...(failures.length ? [`Failed meshes (left out of the medians): ${failures.join('; ')}.`, ''] : []),
    `Environment: ${describeMachine(env)}; ${chromiumVersion ? `Chromium ${chromiumVersion}; ` : ''}load average (os.loadavg 1/5/15 min) ${load(loadStart)} at the start, ` +
      `${load(loadEnd)} at the end; commit ${env.commit}${env.uncommittedFiles ? ` with ${env.uncommittedFiles} uncommitted file(s) under packages/client/src` : ''}; ${env.date.slice(0, 10)}.`,
    shared
      ? 'The load average was above 2: the 2 cores were shared with other work during the run, so the pages got less CPU than they asked for (CPU figures are lower bounds of the demand, bitrates and frame rates may be reduced). Compare sizes within this table only.'
      : 'On a shared 2-core machine single runs vary 2–10×; compare sizes within this table.',
  ].join('\n');
}

// ---------------------------------------------------------------- namespace re-exec

if (opts.inside) {
  await main();
} else {
  if (process.getuid?.() !== 0) {
    console.error('bench/group-mesh.mjs needs root (it runs Chromium in its own loopback-only network namespace).');
    process.exit(2);
  }
  const ns = `sbbench-mesh-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2), '--inside'], {
      stdio: 'inherit',
    });
    const stop = () => child.kill('SIGTERM');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.exitCode = await new Promise((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  } finally {
    execFileSync('ip', ['netns', 'delete', ns]);
  }
}
