/**
 * The chaos run of resume-chaos.test.ts on three nodes sharing one Redis: every (re)connection
 * goes to a node picked at random, so about two resumes in three land on another node than the
 * one the connection left (the replay comes from the Redis stream, the old node's hold is taken
 * over). Server-side kills destroy the socket on whichever node holds it. Needs redis-server
 * (skipped locally without it, failed under CI=true).
 */
import { afterAll, describe, it } from 'vitest';
import { requireOrSkip, startRedis, type RedisHandle } from '@switchboard/test-utils';
import { runChaos } from './resume-chaos-harness.js';
import { CHAOS_CLIENTS, CHAOS_SECONDS, checkChaos } from './resume-chaos-stats.js';
import { startServer, type TestServer } from './server.js';

const missing = requireOrSkip('redis');
/** Half the one-node run's time by default (CHAOS_SECONDS, at most 30 here): the same checks, and the suite stays within CI's time. */
const SECONDS = Math.min(CHAOS_SECONDS, 30);
let redis: RedisHandle | null = null;
const nodes: TestServer[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
  await redis?.stop();
});

(missing === null ? describe : describe.skip)(`resume chaos on three nodes${missing ? ` [skipped: ${missing}]` : ''}`, () => {
  it(
    `${CHAOS_CLIENTS} clients, resumes on random nodes for ${SECONDS} s: every acked message delivered once and in order, every cid kept`,
    async () => {
      redis = await startRedis();
      const prefix = `chaos${process.pid}:`;
      for (let i = 1; i <= 3; i++) {
        const node = await startServer({
          redis: redis.url,
          nodeId: `${prefix}n${i}`,
          cluster: { prefix },
          limits: { maxConnectionsPerAddress: 0, guestTokensPerMinute: 0 },
        });
        nodes.push(node);
        await node.server.ready();
      }
      const ports = nodes.map((n) => String(n.port));
      const result = await runChaos({
        clients: CHAOS_CLIENTS,
        groupSize: 10,
        seconds: SECONDS,
        postMinMs: 500,
        postMaxMs: 1000,
        killMinMs: 5_000,
        killMaxMs: 15_000,
        baseUrl: nodes[0]!.url,
        realtimeUrl: (url) => {
          const to = new URL(url);
          to.port = ports[Math.floor(Math.random() * ports.length)]!;
          return to.toString();
        },
        token: (user_id) => nodes[0]!.token(user_id),
        dropUser: (user_id) => nodes.reduce((sum, n) => sum + n.dropUser(user_id), 0),
      });
      try {
        checkChaos('three nodes, Redis', result, SECONDS);
      } finally {
        await Promise.all(result.clients.map((c) => c.sb.closeRealtime()));
      }
    },
    (SECONDS + 180) * 1000,
  );
});
