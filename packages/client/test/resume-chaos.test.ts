/**
 * Chaos, bounded (issue: resume proofs): 200 Node SDK clients in groups of 10 on one server
 * (memory store) post numbered messages to their group while every socket is killed at random
 * every 5–15 s, half by the server destroying it, half by the ws dying under the SDK. After
 * CHAOS_SECONDS (default 30, at most 60) the kills stop and everything settles: every acked
 * message reached every member of its group once and in its sender's order, and every client
 * kept its cid (every reconnect resumed). Loopback only; prints its figures.
 */
import { afterAll, expect, it } from 'vitest';
import { runChaos } from './resume-chaos-harness.js';
import { figures, report } from './resume-chaos-stats.js';
import { startServer, type TestServer } from './server.js';

const SECONDS = Math.min(60, Math.max(5, Number(process.env['CHAOS_SECONDS'] ?? 30)));
const CLIENTS = Math.min(200, Math.max(20, Number(process.env['CHAOS_CLIENTS'] ?? 200)));

let srv: TestServer | null = null;
afterAll(async () => {
  await srv?.close();
});

it(`${CLIENTS} clients, sockets killed every 5–15 s for ${SECONDS} s: every acked message delivered once and in order, every cid kept`, async () => {
  // Every client connects from 127.0.0.1: lift the per-address limits a public server keeps.
  srv = await startServer({ limits: { maxConnectionsPerAddress: 0, guestTokensPerMinute: 0 } });
  const server = srv;
  const result = await runChaos({
    clients: CLIENTS,
    groupSize: 10,
    seconds: SECONDS,
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
    const f = figures(result);
    console.log(report('one node, memory store', f, result));
    // The first kill comes 5–15 s in: past 15 s, every client has lost its socket at least once.
    if (SECONDS >= 15) expect(result.clients.filter((c) => c.kills === 0).map((c) => c.user_id)).toEqual([]);
    expect(f.kills.server).toBeGreaterThan(0);
    expect(f.kills.client).toBeGreaterThan(0);
    expect(f.notResumed).toBe(0);
    expect(f.resumes).toBe(f.kills.server + f.kills.client);
    expect(f.cidsChanged).toBe(0);
    expect(f.failedPosts).toBe(0);
    expect(f.missing).toBe(0);
    expect(f.duplicates).toBe(0);
    expect(f.outOfOrder).toBe(0);
    expect(f.replayedDelayMs.n).toBeGreaterThan(0); // some messages did come in replays
  } finally {
    await Promise.all(result.clients.map((c) => c.sb.closeRealtime()));
  }
}, (SECONDS + 150) * 1000);
