#!/usr/bin/env node
/**
 * What a started server holds before any connection, and how long it takes to start: a fresh server
 * child per system and run (Switchboard as in realtime.mjs: TLS off, the memory store), the time from
 * spawning it to listening, then its V8 heap used and RSS after gc(). Systems interleaved, medians.
 *
 *   npx tsc -b packages/protocol packages/server
 *   node bench/startup.mjs [--runs 5] [--only switchboard,ws,peerjs]
 *
 * Loopback only; each child is stopped after its reading.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serve, ServerChild } from './lib/realtime-servers.mjs';
import { SYSTEMS } from './lib/realtime-systems.mjs';
import { median } from './lib/stats.mjs';
import { fmt, markdownTable } from './lib/table.mjs';

const SELF = fileURLToPath(import.meta.url);
const MiB = 1024 * 1024;

async function main() {
  const { values: opts } = parseArgs({
    options: { runs: { type: 'string', default: '5' }, only: { type: 'string', default: 'ws,peerjs,switchboard' } },
  });
  const systems = opts.only.split(',');
  const secret = randomBytes(24).toString('base64url');
  const results = Object.fromEntries(systems.map((s) => [s, { startMs: [], heapMiB: [], rssMiB: [] }]));
  for (let run = 0; run < Number(opts.runs); run++) {
    for (const system of systems.map((_, i) => systems[(i + run) % systems.length])) {
      const started = performance.now();
      const child = await ServerChild.start(system, { script: SELF, secret, cpuProfDir: null });
      const startMs = performance.now() - started;
      try {
        const { heapUsed, rss } = await child.rpc('mem');
        results[system].startMs.push(startMs);
        results[system].heapMiB.push(heapUsed / MiB);
        results[system].rssMiB.push(rss / MiB);
      } finally {
        await child.stop();
      }
    }
  }
  const columns = [
    'System',
    { title: 'spawn to listening ms', align: 'right' },
    { title: 'V8 heap used MiB', align: 'right' },
    { title: 'RSS MiB', align: 'right' },
  ];
  const label = (s) => (s === 'switchboard' ? 'Switchboard' : SYSTEMS[s].label);
  const rows = systems.map((s) => [label(s), fmt(median(results[s].startMs)), fmt(median(results[s].heapMiB)), fmt(median(results[s].rssMiB))]);
  console.log(markdownTable(columns, rows));
  console.log(`\nMedians of ${opts.runs} runs, a fresh server child each.`);
}

if (process.argv[2] === '--serve') await serve(process.argv[3]);
else await main();
