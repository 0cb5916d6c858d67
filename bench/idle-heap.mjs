#!/usr/bin/env node
/**
 * What an idle connection holds on the server, by object type: two heap snapshots of one server
 * child (after 10 warm-up connections came and went, then with C idle connections), diffed by
 * node id (bench/lib/heap-diff.mjs) and divided by C.
 *
 *   npx tsc -b packages/protocol packages/server
 *   node bench/idle-heap.mjs [--system switchboard|ws|socketio|peerjs] [--connections 2000] [--top 40] [--keep]
 *
 * Loopback only; the server child and the snapshots' temporary directory go away at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './lib/async.mjs';
import { heapDiff, printHeapDiff } from './lib/heap-diff.mjs';
import { clientFactory, connectMany, dropClients } from './lib/realtime-clients.mjs';
import { serve, ServerChild } from './lib/realtime-servers.mjs';

const SELF = fileURLToPath(import.meta.url);

/** Signals the child to write a snapshot (--heapsnapshot-signal) and waits until the file stops growing. */
async function snapshot(child, dir) {
  const known = new Set(readdirSync(dir));
  await child.rpc('mem'); // gc() a few times first
  child.proc.kill('SIGUSR2');
  const deadline = Date.now() + 120_000;
  let file = null;
  let size = -1;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    file ??= readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !known.has(f)) ?? null;
    if (!file) continue;
    const now = statSync(path.join(dir, file)).size;
    if (now === size && now > 0) return path.join(dir, file);
    size = now;
  }
  throw new Error('heap snapshot not written within 120 s');
}

async function main() {
  const argv = process.argv.slice(2);
  const value = (flag, fallback) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : fallback);
  const system = value('--system', 'switchboard');
  const C = Number(value('--connections', 2000));
  const top = Number(value('--top', 40));
  const secret = randomBytes(24).toString('base64url');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchboard-heap-'));
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}`.trim();
  const { signToken } = await import('@switchboard/server');
  const tokens = [];
  for (let i = 0; i < C + 10; i++) tokens.push(await signToken([secret], { user_id: `heap-${i}`, ttlSeconds: 3600 }));
  const child = await ServerChild.start(system === 'sdk' ? 'switchboard' : system, { script: SELF, secret, cpuProfDir: null });
  let clients = [];
  try {
    const connect = await clientFactory(system, child.info, { tokens });
    const warm = await connectMany(connect, 10, C);
    for (const c of warm) c.terminate();
    await withTimeout(Promise.all(warm.map((c) => c.closed.promise)), 10_000, 'closing warm-up clients');
    const before = await snapshot(child, dir);
    clients = await connectMany(connect, C);
    const after = await snapshot(child, dir);
    console.log(`${system}: ${C} idle connections`);
    printHeapDiff(heapDiff(before, after), C, top);
  } finally {
    await child.stop();
    await dropClients(clients);
    if (argv.includes('--keep')) console.log(`snapshots kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve') await serve(process.argv[3]);
else await main();
