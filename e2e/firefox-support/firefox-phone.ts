/**
 * The Firefox counterpart of calls-support's Phone: the same page (CALL_APP_SCRIPT running the
 * Switchboard browser bundle against the real server), driven through puppeteer's Page over
 * WebDriver BiDi instead of Playwright's. Each phone has its own browser context (a BiDi user
 * context) and its own forwarder into the namespace.
 */
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { forwardIntoNetns, WEBRTC_STATS_SCRIPT, type Forward, type Netns } from '@switchboard/test-utils';

// Forwarder ports inside the namespace; Playwright phones count up from 20000.
let listenPorts = 24_000;

export class FirefoxPhone {
  cid = '';
  user_id = '';

  private constructor(
    readonly page: Page,
    readonly context: BrowserContext,
    readonly forward: Forward,
  ) {}

  static async open(browser: Browser, ns: Netns, serverPort: number, options: Record<string, unknown>, group: string | null): Promise<FirefoxPhone> {
    const forward = await forwardIntoNetns(ns, serverPort, { listenPort: listenPorts++ });
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    if (process.env['CALLS_DEBUG']) {
      const label = String(options['name'] ?? 'firefox');
      page.on('console', (m) => console.log(`[${label}] ${m.text()}`));
      page.on('pageerror', (e) => console.log(`[${label}] pageerror ${String(e)}`));
    }
    await page.evaluateOnNewDocument(WEBRTC_STATS_SCRIPT);
    const phone = new FirefoxPhone(page, context, forward);
    await page.goto(`${forward.origin}/call.html`);
    await phone.waitFor('window.__ready === true && window.__sbStats !== undefined');
    const { cid, user } = await phone.eval<{ cid: string; user: { user_id: string } }>(`window.t.connect(${JSON.stringify(options)})`);
    phone.cid = cid;
    phone.user_id = user.user_id;
    if (group) await phone.eval(`window.t.join(${JSON.stringify(group)})`);
    return phone;
  }

  eval<T>(expression: string): Promise<T> {
    // A function body, so a promise the expression yields is awaited in the page.
    return this.page.evaluate(`(async () => (${expression}))()`) as Promise<T>;
  }

  call(cid: string, params: Record<string, unknown> = {}): Promise<string> {
    return this.eval<string>(`window.t.call(${JSON.stringify(cid)}, ${JSON.stringify(params)})`);
  }

  accept(params: Record<string, unknown> = {}): Promise<string | null> {
    return this.eval<string | null>(`window.t.accept(${JSON.stringify(params)})`);
  }

  /** Polls `expression` in the page (awaiting it when it is a promise) until it is truthy. */
  async waitFor(expression: string, timeout = 20_000): Promise<unknown> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const value = await this.eval<unknown>(expression);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for: ${expression}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
    await this.forward.close().catch(() => undefined);
  }
}
