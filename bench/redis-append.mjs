#!/usr/bin/env node
/**
 * What resume costs Redis per recipient in a cluster: the replay store's append (one script per
 * post: number the frame for each recipient, buffer it in the recipient's stream, publish it to
 * the nodes holding them), measured as redis-server's own CPU time per recipient.
 *
 *   npx tsc -b packages/server && node bench/redis-append.mjs [--runs 5] [--posts 4000] [--recipients 25] [--no-probes]
 *
 * One private redis-server on 127.0.0.1 (a free port), one ioredis client with auto-pipelining
 * as the cluster uses it, `--recipients` held cids of which a third are on this node and the rest
 * on two others (so every post publishes twice, as in bench/cluster.mjs), ~200-byte frames, at
 * most 8 posts in flight, and the recipients' delivery probes as connected clients answer them
 * (every 16 frames; `--no-probes`: none, as for clients away). Redis CPU is user + system time from /proc over the posts; medians of
 * the runs. Stops by itself.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createRedisReplayStore } from '../packages/server/dist/resume/index.js';
import { cpuSeconds, startRedis } from './lib/cluster-procs.mjs';
import { median } from './lib/stats.mjs';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    posts: { type: 'string', default: '4000' },
    recipients: { type: 'string', default: '25' },
    'no-probes': { type: 'boolean', default: false },
  },
});
const RUNS = Number(opts.runs);
const POSTS = Number(opts.posts);
const RECIPIENTS = Number(opts.recipients);
const PROBES = !opts['no-probes'];
const IN_FLIGHT = 8;
/** As a connected client's delivery probes (connection.ts): every 16 numbered frames, the client has them all. */
const PROBE_EVERY = 16;
const PREFIX = 'bench:';
const limits = { windowMs: 30_000, maxFrames: 1000, maxBytes: 1 << 20, maxAgeMs: 80_000 };

const server = await startRedis();
const redis = new Redis(server.url, { enableAutoPipelining: true });
const store = createRedisReplayStore({ redis, prefix: PREFIX, node: 'n1', limits });
const frame = { type: 'message', data: Buffer.from(JSON.stringify({ type: 'message', sender: 'cid:bench', data: 'x'.repeat(150) })) };
const cids = Array.from({ length: RECIPIENTS }, (_, i) => `cid-${i}`);

const perRecipientUs = [];
const commands = [];
try {
  for (let run = 1; run <= RUNS; run++) {
    await server.reset();
    for (const [i, cid] of cids.entries()) {
      await store.open(cid, `user-${i}`, 'n1');
      await redis.hset(`${PREFIX}cn`, cid, `n${(i % 3) + 1}`);
    }
    await server.resetStats();
    const before = cpuSeconds(server.pid);
    let sent = 0;
    const worker = async () => {
      while (sent < POSTS) {
        sent++;
        const appended = await store.append(cids, frame, true);
        if (!PROBES) continue;
        for (const { cid, seq } of appended) if (seq % PROBE_EVERY === 0) store.received?.(cid, seq);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const us = ((cpuSeconds(server.pid) - before) * 1e6) / (POSTS * RECIPIENTS);
    const stats = await server.commandStats();
    const total = Object.entries(stats).reduce((sum, [name, n]) => (name === 'info' || name === 'config' ? sum : sum + n), 0);
    perRecipientUs.push(us);
    commands.push(total / (POSTS * RECIPIENTS));
    console.log(`run ${run}/${RUNS}: Redis CPU ${us.toFixed(2)} µs per recipient, ${(total / (POSTS * RECIPIENTS)).toFixed(3)} commands per recipient`);
  }
  console.log(
    `median of ${RUNS} runs (${POSTS} posts × ${RECIPIENTS} recipients): Redis CPU ${median(perRecipientUs).toFixed(2)} µs per recipient` +
      ` (runs ${perRecipientUs.map((u) => u.toFixed(2)).join(', ')}), ${median(commands).toFixed(3)} commands per recipient`,
  );
} finally {
  redis.disconnect();
  await server.stop();
}
