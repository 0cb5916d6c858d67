/**
 * A Switchboard cluster of real processes for the e2e suites: redis-server, N nodes started
 * with the CLI (`switchboard serve --http --redis …`) and a round-robin TCP load balancer
 * (tcp-lb.mjs), all inside one network namespace next to Chromium. Each node also serves the
 * test pages (the call app and Skapi guide page) and the SDK bundle.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { signToken } from '@switchboard/server';
import { BUNDLE_PATH, CALL_APP_SCRIPT, CALL_PAGE, pollPage } from '../calls-support/call-app.js';
import { GUIDE_PAGE, GUIDE_SCRIPT } from '../calls-support/guide-page.js';
import { installWebrtcStats, startProcess, type ManagedProcess, type Netns } from '@switchboard/test-utils';

export const CLUSTER_SECRET = 'e2e-cluster-secret-0123456789abcdef';
const CLI = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const LB = fileURLToPath(new URL('./tcp-lb.mjs', import.meta.url));

export interface ClusterNode {
  id: string;
  port: number;
  origin: string;
  process: ManagedProcess;
}

/** A directory with the pages and the bundle, served by every node (`--static`). */
export function pagesDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sb-cluster-pages-'));
  copyFileSync(BUNDLE_PATH, join(dir, 'switchboard.browser.js'));
  writeFileSync(join(dir, 'call-app.js'), CALL_APP_SCRIPT);
  writeFileSync(join(dir, 'call.html'), CALL_PAGE);
  writeFileSync(join(dir, 'guide.js'), GUIDE_SCRIPT);
  writeFileSync(join(dir, 'guide.html'), GUIDE_PAGE);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `port`: a fixed port (a restarted node takes its old place behind the balancer); default any. Without `netns`, in this namespace. */
export async function startNode(options: {
  netns?: Netns;
  redisUrl: string;
  id: string;
  staticDir: string;
  port?: number;
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<ClusterNode> {
  const proc = await startProcess(
    process.execPath,
    [
      CLI,
      'serve',
      '--http',
      '--host',
      '127.0.0.1',
      '--port',
      String(options.port ?? 0),
      '--redis',
      options.redisUrl,
      '--secret',
      CLUSTER_SECRET,
      '--static',
      options.staticDir,
      '--log-level',
      'info',
    ],
    {
      name: options.id,
      ...(options.netns ? { netns: options.netns } : {}),
      env: { ...process.env, SWITCHBOARD_NODE_ID: options.id, SWITCHBOARD_DATA_DIR: join(tmpdir(), `sb-${options.id}`), ...options.env },
      waitForLine: /Press Ctrl\+C/,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      stopTimeoutMs: 8_000,
    },
  );
  const port = Number(/Local:\s+http:\/\/localhost:(\d+)\//.exec(proc.output())![1]);
  return { id: options.id, port, origin: `http://127.0.0.1:${port}`, process: proc };
}

export async function startLoadBalancer(netns: Netns | undefined, ports: number[]): Promise<{ port: number; origin: string; process: ManagedProcess }> {
  const proc = await startProcess(process.execPath, [LB, '--port', '0', ...ports.flatMap((p) => ['--backend', `127.0.0.1:${p}`])], {
    name: 'tcp-lb',
    ...(netns ? { netns } : {}),
    waitForLine: /^listening \d+/,
  });
  const port = Number(/listening (\d+)/.exec(proc.output())![1]);
  return { port, origin: `http://127.0.0.1:${port}`, process: proc };
}

/** Which node logged "connected" for this cid (index into `nodes`), or -1. */
/**
 * Which node holds `cid`, from the nodes' "connected" log lines. The client has its cid from the
 * welcome before the node's log line reaches our pipe (pino writes asynchronously), so wait a little.
 */
export async function nodeOf(nodes: ClusterNode[], cid: string, timeoutMs = 5_000): Promise<number> {
  const find = () =>
    nodes.findIndex((n) =>
      n.process
        .output()
        .split('\n')
        .some((l) => l.includes(`"cid":"${cid}"`) && l.includes('"msg":"connected"')),
    );
  const deadline = Date.now() + timeoutMs;
  let index = find();
  while (index === -1 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    index = find();
  }
  return index;
}

/** Which node a resume of `cid` landed on (its "connected" line says resumed), or -1. */
export async function resumedOn(nodes: ClusterNode[], cid: string, timeoutMs = 5_000): Promise<number> {
  const find = () =>
    nodes.findIndex((n) =>
      n.process
        .output()
        .split('\n')
        .some((l) => l.includes(`"cid":"${cid}"`) && l.includes('"resumed":true') && l.includes('"msg":"connected"')),
    );
  const deadline = Date.now() + timeoutMs;
  let index = find();
  while (index === -1 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    index = find();
  }
  return index;
}

export const tokenFor = (user_id: string, name?: string) => signToken([CLUSTER_SECRET], { user_id, ...(name ? { name } : {}), ttlSeconds: 3600 });

/** A page running the call app (window.t) from `origin`, its SDK pointed at `url`. */
export class ClusterPhone {
  cid = '';
  private constructor(
    readonly page: Page,
    readonly context: BrowserContext,
    readonly user_id: string,
  ) {}

  static async open(browser: Browser, origin: string, url: string, user_id: string, group: string | null): Promise<ClusterPhone> {
    const context = await browser.newContext();
    const page = await context.newPage();
    if (process.env['CLUSTER_DEBUG']) {
      page.on('console', (m) => console.log(`[${user_id}] ${m.text()}`));
      page.on('pageerror', (e) => console.log(`[${user_id}] pageerror ${e.message}`));
      page.on('response', (r) => r.status() >= 400 && console.log(`[${user_id}] ${r.status()} ${r.url()}`));
    }
    await installWebrtcStats(page);
    await page.goto(`${origin}/call.html`);
    await page.waitForFunction('window.__ready === true');
    const phone = new ClusterPhone(page, context, user_id);
    const token = await tokenFor(user_id, user_id);
    phone.cid = (await page.evaluate((o) => window.t.connect(o), { url, token, name: user_id })).cid;
    if (group) await page.evaluate((g) => window.t.join(g), group);
    return phone;
  }

  eval<T>(expression: string): Promise<T> {
    return this.page.evaluate(expression) as Promise<T>;
  }

  waitFor(expression: string, timeout = 20_000): Promise<unknown> {
    return pollPage(this.page, expression, timeout);
  }

  /** The cid the SDK uses now (it changes after a reconnect). */
  currentCid(): Promise<string> {
    return this.eval<string>('window.t.sb.cid');
  }

  close(): Promise<void> {
    return this.context.close().catch(() => undefined);
  }
}
