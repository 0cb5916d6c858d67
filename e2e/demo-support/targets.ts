/**
 * Where the demo e2e's pages come from: the demo built as `npm run build -w @switchboard/demo`
 * does it, served by a real Switchboard server in this process and forwarded into Chromium's
 * network namespace (or, with DEMO_TARGET=mock, the UI-only mock build routed by Playwright).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext } from 'playwright-core';
import { forwardIntoNetns, type Forward, type Netns } from '@switchboard/test-utils';

export const MOCK = process.env['DEMO_TARGET'] === 'mock';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEMO_SRC = join(ROOT, 'apps/demo');
const DEMO_OUT = MOCK ? join(DEMO_SRC, 'dist-mock') : join(ROOT, 'packages/cli/dist/demo');
export const SHOTS = join(ROOT, 'test-results/screenshots');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
export const UI_TIMEOUT = 20_000;

/** Builds the demo unless a build is there already (the HTTPS suite after the main one). */
export function buildDemoOnce(): void {
  if (!statSync(join(DEMO_OUT, 'index.html'), { throwIfNoEntry: false })) buildDemo();
}

/** Screenshots of failed tests are from the last run only. */
export function clearFailureShots(): void {
  mkdirSync(SHOTS, { recursive: true });
  for (const file of readdirSync(SHOTS, { withFileTypes: true }).filter((f) => f.name.startsWith('failed-'))) {
    rmSync(join(SHOTS, file.name));
  }
}

/** Newest modification time under `dir` (0 when it does not exist). */
function newest(dir: string): number {
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(dir).map((name) => newest(join(dir, name))));
}

/**
 * Builds the demo when its sources (or the SDK build it bundles) are newer than the build: demo
 * test files running one after another (or side by side) then share one build instead of
 * emptying the directory another file's server is serving from.
 */
export function buildDemoIfStale(): void {
  const built = statSync(join(DEMO_OUT, 'index.html'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = Math.max(
    newest(join(DEMO_SRC, 'src')),
    newest(join(DEMO_SRC, 'index.html')),
    newest(join(DEMO_SRC, 'public')),
    newest(join(DEMO_SRC, 'vite.config.ts')),
    newest(join(ROOT, 'packages/client/dist')),
    MOCK ? newest(join(DEMO_SRC, 'dev')) : 0,
  );
  if (built < sources) buildDemo();
}

/** Builds the demo exactly as `npm run build -w @switchboard/demo` does (or the mock build). */
export function buildDemo(): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', ...(MOCK ? ['--mode', 'mock'] : [])], {
    cwd: DEMO_SRC,
    stdio: 'pipe',
    timeout: 120_000,
  });
}

export interface Target {
  origin: string;
  /** A browser context for one person (the mock needs one shared context: BroadcastChannel). */
  context(options?: { https?: boolean }): Promise<BrowserContext>;
  /** Cuts every connection to the server and refuses new ones until restore() (server targets only). */
  interrupt?(): Promise<void>;
  restore?(): Promise<void>;
  /** A JWT signed by the server (server targets only). */
  issueToken?(claims: { user_id: string; name?: string }): Promise<string>;
  close(): Promise<void>;
}

type StartedServer = {
  listen(port?: number, host?: string): Promise<{ port: number }>;
  close(): Promise<void>;
  issueToken(claims: { user_id: string; name?: string | null }): Promise<string>;
};

async function startServer(tls: 'off' | 'self-signed'): Promise<{ server: StartedServer; port: number; dataDir: string }> {
  const { createServer } = (await import('@switchboard/server')) as unknown as {
    createServer(config: Record<string, unknown>): StartedServer;
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-demo-e2e-'));
  const server = createServer({
    host: '127.0.0.1',
    port: 0,
    tls: { mode: tls },
    dataDir,
    staticDir: DEMO_OUT,
    guests: true,
    logLevel: 'warn',
    // Every page comes from 127.0.0.1: no per-address limits in this harness.
    limits: { maxConnectionsPerAddress: 0, guestTokensPerMinute: 0 },
  });
  const address = await server.listen(0, '127.0.0.1');
  return { server, port: address.port, dataDir };
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

export async function mockTarget(browser: Browser): Promise<Target> {
  const origin = 'http://127.0.0.1:8123';
  let shared: BrowserContext | null = null;
  return {
    origin,
    async context() {
      if (shared) return shared;
      shared = await browser.newContext({ viewport: DESKTOP });
      await shared.route(`${origin}/**`, async (route) => {
        const url = new URL(route.request().url());
        if (url.pathname === '/v1/info') return route.fulfill({ status: 404, body: '' });
        const file = normalize(join(DEMO_OUT, url.pathname === '/' ? 'index.html' : url.pathname));
        try {
          const body = readFileSync(file);
          await route.fulfill({ status: 200, body, contentType: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
        } catch {
          await route.fulfill({ status: 404, body: 'not found' });
        }
      });
      return shared;
    },
    async close() {
      await shared?.close();
    },
  };
}

export async function serverTarget(browser: Browser, ns: Netns, tls: 'off' | 'self-signed'): Promise<Target & { sockets: string[] }> {
  const { server, port, dataDir } = await startServer(tls);
  let forward: Forward | null;
  try {
    forward = await forwardIntoNetns(ns, port);
  } catch (error) {
    await server.close();
    throw error;
  }
  const insidePort = forward.port;
  const contexts: BrowserContext[] = [];
  const sockets: string[] = [];
  return {
    origin: tls === 'off' ? forward.origin : forward.origin.replace(/^http:/, 'https:'),
    issueToken: (claims) => server.issueToken(claims),
    async interrupt() {
      await forward?.close();
      forward = null;
    },
    async restore() {
      forward ??= await forwardIntoNetns(ns, port, { listenPort: insidePort });
    },
    sockets,
    async context() {
      const context = await browser.newContext({ viewport: DESKTOP, ignoreHTTPSErrors: tls !== 'off' });
      context.on('page', (page) => page.on('websocket', (ws) => sockets.push(ws.url())));
      contexts.push(context);
      return context;
    },
    async close() {
      await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
      await forward?.close();
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
