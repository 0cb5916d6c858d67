/**
 * Two pages, each running one PeerSession (peer-harness.ts), joined by a signaling
 * relay the test controls (Playwright bindings): it can hold signals to force glare.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';

const ORIGIN = 'http://127.0.0.1:8000';
let bundle: Promise<string> | undefined;

export function harnessBundle(): Promise<string> {
  bundle ??= build({
    entryPoints: [fileURLToPath(new URL('./peer-harness.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'silent',
  }).then((result) => result.outputFiles[0]!.text);
  return bundle;
}

type Side = 'a' | 'b';

export class PeerPair {
  held: { from: Side; json: string }[] = [];
  holding = false;
  delivered: Record<Side, number> = { a: 0, b: 0 };
  private chains: Record<Side, Promise<unknown>> = { a: Promise.resolve(), b: Promise.resolve() };

  private constructor(
    readonly context: BrowserContext,
    readonly a: Page,
    readonly b: Page,
  ) {}

  static async open(browser: Browser): Promise<PeerPair> {
    const context = await browser.newContext();
    const js = await harnessBundle();
    await context.route(`${ORIGIN}/**`, (route) => {
      const url = new URL(route.request().url());
      if (url.pathname === '/harness.js') return route.fulfill({ contentType: 'text/javascript', body: js });
      return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>peer</title><script src="/harness.js"></script>' });
    });
    const a = await context.newPage();
    const b = await context.newPage();
    const pair = new PeerPair(context, a, b);
    await a.exposeFunction('sendSignal', (json: string) => pair.relay('a', json));
    await b.exposeFunction('sendSignal', (json: string) => pair.relay('b', json));
    await Promise.all([a.goto(`${ORIGIN}/a`), b.goto(`${ORIGIN}/b`)]);
    return pair;
  }

  page(side: Side): Page {
    return side === 'a' ? this.a : this.b;
  }

  relay(from: Side, json: string): void {
    if (this.holding) {
      this.held.push({ from, json });
      return;
    }
    this.deliver(from, json);
  }

  release(): void {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const { from, json } of held) this.deliver(from, json);
  }

  private deliver(from: Side, json: string): void {
    const to: Side = from === 'a' ? 'b' : 'a';
    this.delivered[to] += 1;
    this.chains[to] = this.chains[to].then(() => this.page(to).evaluate((j) => window.harness.signal(j), json)).catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all([this.a, this.b].map((p) => p.evaluate(() => window.harness.close()).catch(() => undefined)));
    await this.context.close();
  }
}
