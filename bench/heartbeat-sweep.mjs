#!/usr/bin/env node
/**
 * The heartbeat sweep's hold on the event loop: a server (built dist) with N idle connections and
 * a 1 s heartbeat, and the longest event-loop delay over 3.5 s (three sweeps). Server and clients
 * share this process (at most 9,000 connections: two sockets each under the 20,000 open files), so
 * the figure also holds the clients' pongs; loopback only.
 *
 *   npx tsc -b packages/protocol packages/server
 *   node bench/heartbeat-sweep.mjs [connections, default 5000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { createServer, signToken } from '../packages/server/dist/index.js';

const N = Math.min(9_000, Math.max(1, Number(process.argv[2] ?? 5000) || 5000));
const secrets = ['heartbeat-sweep-benchmark-secret'];
const dataDir = mkdtempSync(join(tmpdir(), 'sb-sweep-'));
const server = createServer({
  tls: { mode: 'off' },
  logLevel: 'silent',
  auth: { secrets },
  dataDir,
  heartbeatMs: 1000,
  limits: { maxConnectionsPerAddress: 0, guestTokensPerMinute: 0 },
});
const { realtimeUrl } = await server.listen(0, '127.0.0.1');
const sockets = [];
try {
  for (let i = 0; i < N; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, N - i) }, async (_, j) => {
        const token = await signToken(secrets, { user_id: `u${i + j}` });
        const ws = new WebSocket(realtimeUrl, ['switchboard.v1', `bearer.${token}`]);
        sockets.push(ws);
        await new Promise((resolve, reject) => {
          ws.once('message', resolve);
          ws.once('error', reject);
        });
      }),
    );
  }
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  await new Promise((resolve) => setTimeout(resolve, 3500));
  delay.disable();
  console.log(
    `${N} idle connections, heartbeat every 1 s, 3.5 s: longest event-loop delay ${(delay.max / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`,
  );
} finally {
  for (const ws of sockets) ws.terminate();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
