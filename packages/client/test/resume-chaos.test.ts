/**
 * Chaos, bounded: 200 Node SDK clients in groups of 10 on one server (memory store) post
 * numbered messages to their group while every socket is killed at random every 5–15 s, half by
 * the server destroying it, half by the ws dying under the SDK. After CHAOS_SECONDS (default 60,
 * at most 60) the kills stop and everything settles: every acked message reached every member of
 * its group once and in its sender's order, and every client kept its cid (every reconnect
 * resumed). Loopback only; prints its figures. The same on three nodes: resume-chaos-cluster.test.ts.
 */
import { afterAll, it } from 'vitest';
import { runChaos } from './resume-chaos-harness.js';
import { CHAOS_CLIENTS, CHAOS_SECONDS, checkChaos } from './resume-chaos-stats.js';
import { startServer, type TestServer } from './server.js';

let srv: TestServer | null = null;
afterAll(async () => {
  await srv?.close();
});

it(
  `${CHAOS_CLIENTS} clients, sockets killed every 5–15 s for ${CHAOS_SECONDS} s: every acked message delivered once and in order, every cid kept`,
  async () => {
    // Every client connects from 127.0.0.1: lift the per-address limits a public server keeps.
    srv = await startServer({ limits: { maxConnectionsPerAddress: 0, guestTokensPerMinute: 0 } });
    const server = srv;
    const result = await runChaos({
      clients: CHAOS_CLIENTS,
      groupSize: 10,
      seconds: CHAOS_SECONDS,
      postMinMs: 500,
      postMaxMs: 1000,
      killMinMs: 5_000,
      killMaxMs: 15_000,
      baseUrl: server.url,
      realtimeUrl: (url) => url,
      token: (user_id) => server.token(user_id),
      dropUser: (user_id) => server.dropUser(user_id),
    });
    try {
      checkChaos('one node, memory store', result, CHAOS_SECONDS);
    } finally {
      await Promise.all(result.clients.map((c) => c.sb.closeRealtime()));
    }
  },
  (CHAOS_SECONDS + 150) * 1000,
);
