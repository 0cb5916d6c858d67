#!/usr/bin/env node
/**
 * Heap per active connection: what a server keeps for connections that have each sent many
 * requests (posts with ids, the wire client confirming what it got with `rx`, as the SDK does),
 * next to the same connections before they sent anything. Switchboard only: it is about what a
 * connection accumulates (the replay ring, the request log), which the peers do not keep.
 *
 *   npm run build
 *   node bench/active-heap.mjs                      # 500 connections × 2,000 posts, 3 runs
 *   node bench/active-heap.mjs --connections 200 --requests 500 --runs 1
 *
 * The server runs in a child process (bench/lib/realtime-servers.mjs, `--expose-gc`); the heap is
 * read after four forced collections. Each connection is alone in its group and posts to it, so
 * every post is answered by its own copy and an ack. 127.0.0.1 only; stops by itself.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { signToken } from '@switchboard/server';
import { deferred, withTimeout } from './lib/async.mjs';
import { clientFactory, connectMany, dropClients } from './lib/realtime-clients.mjs';
import { serve, ServerChild } from './lib/realtime-servers.mjs';
import { median } from './lib/stats.mjs';

const SCRIPT = fileURLToPath(import.meta.url);

async function run({ connections, requests }) {
  const secret = randomBytes(24).toString('hex');
  const child = await ServerChild.start('switchboard', { script: SCRIPT, secret });
  try {
    const tokens = [];
    for (let i = 0; i < connections; i++) tokens.push(await signToken([secret], { user_id: `active-${i}`, ttlSeconds: 3600 }));
    const connect = await clientFactory('switchboard', child.info, { tokens });
    const clients = await connectMany(connect, connections);
    await Promise.all(clients.map((c, i) => c.join(`solo-${i}`)));
    const before = (await child.rpc('mem')).heapUsed;
    await Promise.all(clients.map((c, i) => postAll(c, `solo-${i}`, requests)));
    // Let the last frames' delivery probes come back, as they would on an idle connection.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const after = (await child.rpc('mem')).heapUsed;
    await child.stop();
    await dropClients(clients);
    return (after - before) / connections;
  } finally {
    child.kill();
  }
}

/** Posts `count` messages to `room`, at most 16 not yet back, and waits for the last. */
async function postAll(client, room, count) {
  let received = 0;
  let sent = 0;
  const done = deferred();
  const more = () => {
    while (sent < count && sent - received < 16) client.post(room, { n: sent++ });
  };
  client.onData = () => {
    received += 1;
    if (received === count) done.resolve();
    else more();
  };
  more();
  await withTimeout(done.promise, 120_000, 'posting');
}

async function main() {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '500' },
      requests: { type: 'string', default: '2000' },
      runs: { type: 'string', default: '3' },
    },
  });
  const opts = { connections: Number(values.connections), requests: Number(values.requests) };
  const perConnection = [];
  for (let i = 0; i < Number(values.runs); i++) perConnection.push(await run(opts));
  const kib = (bytes) => (bytes / 1024).toFixed(1);
  console.log(
    `${opts.connections} connections × ${opts.requests} posts each: heap per connection ${perConnection.map(kib).join(' / ')} KiB (median ${kib(median(perConnection))} KiB)`,
  );
}

if (process.argv[2] === '--serve') await serve(process.argv[3]);
else await main();
