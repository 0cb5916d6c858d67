#!/usr/bin/env node
/**
 * Data channel file transfer: the SDK's sendFile/receiveFiles next to raw RTCDataChannel.send,
 * Node → Node and Node → Chromium, plus call setup times. Medians of several runs.
 *
 *   npx tsc -b packages/protocol packages/server packages/client packages/test-utils && npm run build -w @switchboard/client
 *   node bench/transfer.mjs              # 3 runs, 50 MiB; prints a markdown table
 *   node bench/transfer.mjs --write      # … and replaces "## Data channel file transfer" in docs/benchmarks.md
 *   options: --runs R (≥ 3 recommended), --mib M, --no-chromium, --json FILE,
 *            --helper-chunk KiB (the helper's chunkSize for the "helper" column; default: the SDK's)
 *
 * Everything runs inside a fresh network namespace that holds only `lo` (the script re-runs
 * itself under `ip netns exec`, which needs root), as testing-webrtc.md prescribes for
 * Chromium: the server (in this process, 127.0.0.1), the Node peers (packages/test-utils/agents/node-agent.mjs child
 * processes, the built @switchboard/client/node, ICE bound to 127.0.0.1) and headless Chromium
 * (playwright-core, /usr/bin/chromium, fake devices, loopback candidates). Without root it runs
 * Node → Node only, on the host's 127.0.0.1.
 *
 * Per run and path, one call on a fresh pair of peers:
 *  - setup: connectRTC() on the caller → its `default` and `file-transfer` channels open;
 *  - helper: sendFile(payload) → resolved, i.e. the receiver reassembled the bytes, checked the
 *    length and SHA-256 (WebCrypto) and confirmed (chunks ≤ min(64 KiB, sctp.maxMessageSize));
 *  - helper 16 KiB: the same with chunkSize 16 KiB (the raw chunk size: the helper's own cost);
 *  - raw: channel.send in 16 KiB chunks, pausing above 1 MiB buffered until `bufferedamountlow`
 *    (256 KiB), from the first send until the receiver counted every byte (same machine clock).
 * The channel is { label: 'file-transfer', ordered: true } (reliable, ordered). MB/s = 10^6 B/s.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { NodeAgent } from '@switchboard/test-utils';
import { replaceSection } from './lib/docs.mjs';
import { describeMachine, machineInfo } from './lib/env.mjs';
import { combineRuns } from './lib/stats.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    mib: { type: 'string', default: '50' },
    write: { type: 'boolean', default: false },
    'no-chromium': { type: 'boolean', default: false },
    'helper-chunk': { type: 'string' },
    json: { type: 'string' },
    inside: { type: 'boolean', default: false },
  },
});
const RUNS = Math.max(1, Number(opts.runs));
const SIZE = Number(opts.mib) * 1024 * 1024;
const CHANNELS = [{ label: 'default' }, { label: 'file-transfer', protocol: 'file-transfer', ordered: true }];
const LABELS = ['default', 'file-transfer'];
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

// ---------------------------------------------------------------- the benchmark

async function main() {
  const chromiumWanted = !opts['no-chromium'] && opts.inside;
  if (!opts.inside) console.error('Not root (or no `ip netns`): measuring Node → Node only, on the host loopback.');
  const stack = await startStack();
  const browser = chromiumWanted ? await launchChromium() : null;
  const runs = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      const row = {};
      Object.assign(row, await nodeToNode(stack.url, run));
      if (browser) Object.assign(row, await nodeToChromium(stack.url, browser, run));
      runs.push(row);
      console.error(`run ${run}/${RUNS}: ${JSON.stringify(row)}`);
    }
  } finally {
    await browser?.close();
    await stack.close();
  }
  const table = render(combineRuns(runs), Boolean(browser));
  console.log(table);
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ runs, size: SIZE }, null, 2));
  if (opts.write) {
    replaceSection(path.join(ROOT, 'docs', 'benchmarks.md'), '## Data channel file transfer', table, { intro: '# Benchmarks\n' });
    console.error('docs/benchmarks.md: "Data channel file transfer" updated');
  }
}

const mbps = (ms) => SIZE / 1e6 / (ms / 1000);

async function agents(url, n, group) {
  return Promise.all(
    Array.from({ length: n }, (_, i) => NodeAgent.start({ url, name: `bench-node-${i}`, group, bind: '127.0.0.1', log: Boolean(process.env.AGENT_LOG) })),
  );
}

/**
 * helper (default chunks), helper 16 KiB and raw 16 KiB over one call from `sender` to the
 * receiver `recv`, after an unmeasured warm-up (SCTP's congestion window starts small), in an
 * order rotated by run so that neither always goes first.
 */
async function measureTransfers(sender, recv, run) {
  await recv.receive();
  let files = 0;
  const helperRun = async (chunkSize) => {
    const result = await sender.request('sendFile', { size: SIZE, name: 'bench.bin', ...(chunkSize ? { chunkSize } : {}) }, 300_000);
    const received = await recv.file(++files);
    if (received.sha256 !== result.sha256) throw new Error('receiver and sender disagree on the SHA-256');
    return result.ms;
  };
  const rawRun = async () => {
    await recv.rawCount(SIZE);
    const raw = await sender.request('rawSend', { size: SIZE }, 300_000);
    return (await recv.rawDone()) - raw.startedAt;
  };
  const helperChunk = opts['helper-chunk'] ? Number(opts['helper-chunk']) * 1024 : undefined;
  await helperRun(helperChunk); // warm-up
  const steps = [
    ['helperMs', () => helperRun(helperChunk)],
    ['helper16Ms', () => helperRun(16 * 1024)],
    ['rawMs', rawRun],
  ];
  const out = {};
  for (let i = 0; i < steps.length; i++) {
    const [key, fn] = steps[(i + run) % steps.length];
    out[key] = await fn();
  }
  return out;
}

async function nodeToNode(url, run) {
  const [a, b] = await agents(url, 2, `bench-nn-${run}`);
  try {
    await b.request('autoAccept', { labels: LABELS });
    const mark = b.mark();
    const call = await a.request('call', { cid: b.cid, params: { channels: CHANNELS }, labels: LABELS });
    await b.waitEvent((e) => e.event === 'accepted', 15_000, mark);
    const recv = {
      receive: () => b.request('receive'),
      file: async (n) => {
        await b.waitEvent(() => b.events.slice(mark).filter((e) => e.event === 'file').length >= n, 300_000, mark);
        return b.events.slice(mark).filter((e) => e.event === 'file')[n - 1];
      },
      rawCount: (total) => b.request('rawCount', { total }),
      rawDone: async () => (await b.waitEvent((e) => e.event === 'rawDone', 300_000, mark)).at,
    };
    const t = await measureTransfers(a, recv, run);
    return { nnSetupMs: call.setupMs, nnHelper: mbps(t.helperMs), nnHelper16: mbps(t.helper16Ms), nnRaw: mbps(t.rawMs) };
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

async function nodeToChromium(url, browser, run) {
  const group = `bench-nc-${run}`;
  const [node] = await agents(url, 1, group);
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${url}/bench.html`);
    await page.waitForFunction('window.__ready === true');
    const pageCid = await page.evaluate((g) => window.b.connect(g), group);
    // Chromium calls Node (setup measured in the page), then Node calls Chromium (the transfer call).
    await node.request('autoAccept', { labels: LABELS });
    const chromeSetupMs = await page.evaluate(([cid, channels]) => window.b.call(cid, channels), [node.cid, CHANNELS]);
    const mark = node.mark();
    await page.evaluate(() => window.b.hangup());
    await node.waitEvent((e) => e.event === 'closed', 15_000, mark);
    const calling = node.request('call', { cid: pageCid, params: { channels: CHANNELS }, labels: LABELS });
    await page.waitForFunction('window.b.incoming !== null');
    await page.evaluate(() => window.b.accept());
    const call = await calling;
    await page.waitForFunction(`window.b.open(${JSON.stringify(LABELS)})`);
    const recv = {
      receive: () => page.evaluate(() => window.b.receive()),
      file: async (n) =>
        (await page.waitForFunction((k) => window.b.files.length >= k && window.b.files[k - 1], n, { timeout: 300_000, polling: 20 })).jsonValue(),
      rawCount: (total) => page.evaluate((n) => window.b.rawCount(n), total),
      rawDone: async () => (await page.waitForFunction(() => window.b.raw && window.b.raw.at, null, { timeout: 300_000, polling: 20 })).jsonValue(),
    };
    const t = await measureTransfers(node, recv, run);
    return {
      ncSetupMs: call.setupMs,
      cnSetupMs: chromeSetupMs,
      ncHelper: mbps(t.helperMs),
      ncHelper16: mbps(t.helper16Ms),
      ncRaw: mbps(t.rawMs),
    };
  } finally {
    await context.close();
    await node.stop();
  }
}

// ---------------------------------------------------------------- server, page, Chromium

const PAGE = `<!doctype html><meta charset="utf-8"><title>bench</title><script type="module">
import * as SB from '/switchboard.browser.js';
const b = {
  sb: null, incoming: null, resolved: null, files: [], raw: null,
  async connect(group) {
    b.sb = new SB.Switchboard({ url: location.origin, name: 'bench-page' });
    await b.sb.connectRealtime((e) => { if (e.type === 'rtc:incoming') b.incoming = e; });
    await b.sb.joinRealtime({ group });
    return b.sb.cid;
  },
  open(labels) { return !!b.resolved && labels.every((l) => b.resolved.channels[l] && b.resolved.channels[l].readyState === 'open'); },
  async call(cid, channels) {
    const t0 = performance.now();
    const c = await b.sb.connectRTC({ cid, channels }, () => {});
    b.resolved = await c.connection;
    while (!b.open(channels.map((c) => c.label))) await new Promise((r) => setTimeout(r, 2));
    return performance.now() - t0;
  },
  async accept() { b.resolved = await b.incoming.connectRTC({}, () => {}); b.incoming = null; return b.resolved.call; },
  hangup() { b.resolved.hangup(); b.resolved = null; },
  receive() {
    SB.receiveFiles(b.resolved.channels['file-transfer'], { onFile: (f) => b.files.push({ sha256: f.sha256, bytes: f.bytes, at: Date.now() }) });
  },
  rawCount(total) {
    const ch = b.resolved.channels['file-transfer'];
    ch.binaryType = 'arraybuffer';
    let got = 0; b.raw = null;
    ch.addEventListener('message', (e) => {
      if (!(e.data instanceof ArrayBuffer) || b.raw) return;
      got += e.data.byteLength;
      if (got >= total) b.raw = { bytes: got, at: Date.now() };
    });
  },
};
window.b = b; window.__ready = true;
</script>`;

async function startStack() {
  const { createServer } = await import('@switchboard/server');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-transfer-'));
  const server = createServer({ host: '127.0.0.1', tls: { mode: 'off' }, logLevel: 'silent', dataDir, guests: true });
  const bundle = readFileSync(path.join(ROOT, 'packages/client/dist/switchboard.browser.js'));
  const http = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x').pathname;
    if (url === '/bench.html') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    if (url === '/switchboard.browser.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    server.handleRequest(req, res);
  });
  server.attach(http, { http: false });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${http.address().port}`,
    async close() {
      await server.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: process.env.SWITCHBOARD_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}

// ---------------------------------------------------------------- report

function render(combined, withChromium) {
  const cell = (key, digits = 1) => {
    const c = combined[key];
    if (!c) return 'n/a';
    const f = (v) => v.toFixed(digits);
    return c.n > 1 ? `${f(c.median)} (${f(c.min)}–${f(c.max)})` : f(c.median);
  };
  const env = machineInfo({ cwd: ROOT, paths: ['packages/client/src'] });
  const chromiumVersion = withChromium
    ? execFileSync(process.env.SWITCHBOARD_CHROMIUM ?? '/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    : 'not run';
  const lines = [
    'Run: `node bench/transfer.mjs --runs 5 --write` after building (as root: it makes its own loopback-only network',
    'namespace; without root it measures Node → Node only).',
    '',
    `Measured by \`bench/transfer.mjs\`: ${opts.mib} MiB (${(SIZE / 1e6).toFixed(1)} MB) per transfer, medians over ${RUNS} runs (min–max in`,
    'brackets), MB/s = 10^6 bytes/s. One call per run and path on fresh peers; Node peers are separate processes',
    '(packages/test-utils/agents/node-agent.mjs: the built `@switchboard/client/node`, node-datachannel, ICE bound to 127.0.0.1); Chromium is',
    'headless Debian Chromium; all inside one loopback-only network namespace, the server in the benchmark process.',
    '',
    '- **helper**: `sendFile` → resolved, i.e. the receiver reassembled the bytes, checked length and SHA-256 (WebCrypto)',
    '  and confirmed; chunks of min(64 KiB, `sctp.maxMessageSize`), pausing above 4 MiB buffered until `bufferedamountlow`.',
    '- **helper, 16 KiB chunks**: the same with `chunkSize: 16 * 1024` (the raw chunk size: what the helper itself costs).',
    '- **raw**: `RTCDataChannel.send` in 16 KiB chunks, pausing above 1 MiB buffered until `bufferedamountlow` (256 KiB),',
    '  from the first send until the receiver counted every byte (no verification).',
    '- **setup**: `connectRTC()` on the caller → its `default` and `file-transfer` data channels open.',
    '',
    '| path | helper MB/s | helper, 16 KiB chunks MB/s | raw 16 KiB MB/s | call setup ms |',
    '|---|---|---|---|---|',
    `| Node → Node | ${cell('nnHelper')} | ${cell('nnHelper16')} | ${cell('nnRaw')} | ${cell('nnSetupMs', 0)} |`,
  ];
  if (withChromium) {
    lines.push(`| Node → Chromium | ${cell('ncHelper')} | ${cell('ncHelper16')} | ${cell('ncRaw')} | ${cell('ncSetupMs', 0)} (Node calls) |`);
    lines.push(`| Chromium → Node (call only) | | | | ${cell('cnSetupMs', 0)} (Chromium calls) |`);
  }
  lines.push(
    '',
    `Environment: ${describeMachine(env)}; load average ${env.loadAverage.join('/')} at the end; ${chromiumVersion}; ` +
      `node-datachannel ${readPackageVersion('node-datachannel')}; commit ${env.commit}${env.uncommittedFiles ? ` with ${env.uncommittedFiles} uncommitted file(s) under packages/client/src` : ''}; ${env.date.slice(0, 10)}.`,
    'On a shared 2-core machine single runs vary 2–10×; compare within this table.',
  );
  return lines.join('\n');
}

function readPackageVersion(name) {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

// ---------------------------------------------------------------- namespace re-exec

const canNetns =
  process.getuid?.() === 0 &&
  !opts.inside &&
  (() => {
    try {
      execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

if (canNetns) {
  const ns = `sbbench-transfer-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2), '--inside'], {
      stdio: 'inherit',
    });
    const code = await new Promise((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
    process.exitCode = code;
  } finally {
    execFileSync('ip', ['netns', 'delete', ns]);
  }
} else {
  await main();
}
