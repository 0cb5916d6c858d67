/**
 * The real Switchboard server (packages/server) in this process, attached to an HTTP server
 * that also serves the test pages and the SDK bundle from the same origin. Pages must come
 * from a real loopback fetch: a page fulfilled by Playwright's route() counts as "public"
 * for Chromium's Local Network Access checks, which then block its WebSocket to 127.0.0.1.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type SwitchboardConfigInput, type SwitchboardServer } from '@switchboard/server';
import { BUNDLE_PATH, CALL_APP_SCRIPT, CALL_PAGE } from './call-app.js';
import { GUIDE_PAGE, GUIDE_SCRIPT } from './guide-page.js';

export interface Stack {
  server: SwitchboardServer;
  port: number;
  close(): Promise<void>;
}

function statics(): Map<string, { type: string; body: string | Buffer }> {
  return new Map<string, { type: string; body: string | Buffer }>([
    ['/switchboard.browser.js', { type: 'text/javascript', body: readFileSync(BUNDLE_PATH) }],
    ['/call-app.js', { type: 'text/javascript', body: CALL_APP_SCRIPT }],
    ['/call.html', { type: 'text/html', body: CALL_PAGE }],
    ['/guide.js', { type: 'text/javascript', body: GUIDE_SCRIPT }],
    ['/guide.html', { type: 'text/html', body: GUIDE_PAGE }],
  ]);
}

export async function startSwitchboard(overrides: SwitchboardConfigInput = {}): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-calls-'));
  // Every page and bot comes from 127.0.0.1: no per-address limits in this harness.
  const limits = { maxConnectionsPerAddress: 0, guestTokensPerMinute: 0, ...overrides.limits };
  const server = createServer({ host: '127.0.0.1', tls: { mode: 'off' }, logLevel: 'silent', dataDir, guests: true, ...overrides, limits });
  const files = statics();
  const http: Server = createHttpServer((req, res) => {
    const file = files.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!file) return void server.handleRequest(req, res);
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  server.attach(http, { http: false });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  let closed: Promise<void> | null = null;
  return {
    server,
    port: (http.address() as AddressInfo).port,
    close: () =>
      (closed ??= (async () => {
        await server.close();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        rmSync(dataDir, { recursive: true, force: true });
      })()),
  };
}
