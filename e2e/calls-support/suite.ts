/**
 * The set-up shared by the suites of calls through the real server (calls.test.ts, group-calls.test.ts,
 * calls-resume.test.ts): one network namespace, one Chromium, the server in this process, and
 * pairs of phones in a fresh group per test (closed after each test). Call inside a describe.
 */
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { closeAllBrowsers, createNetns, deleteAllNetns, launchChromium, stopAllProcesses, type Netns } from '@switchboard/test-utils';
import { BUNDLE_PATH, Phone } from './call-app.js';
import { startSwitchboard, type Stack } from './stack.js';

let groupCounter = 0;

export interface CallSuite {
  readonly stack: Stack;
  readonly browser: Browser;
  readonly ns: Netns;
  /** Phones that the suite closes after the test (add any opened by hand). */
  readonly phones: Phone[];
  two(options?: { a?: Record<string, unknown>; b?: Record<string, unknown>; on?: Stack }): Promise<[Phone, Phone]>;
  connected(a: Phone, b: Phone, media?: { audio: boolean; video: boolean }): Promise<{ call: string; callerMs: number; calleeMs: number }>;
}

export function callSuite(name: string): CallSuite {
  const phones: Phone[] = [];
  let ns: Netns;
  let browser: Browser;
  let stack: Stack;

  beforeAll(async () => {
    readFileSync(BUNDLE_PATH); // built by `npm run build -w @switchboard/client`
    ns = createNetns(name);
    stack = await startSwitchboard();
    browser = await launchChromium({ netns: ns, args: ['--autoplay-policy=no-user-gesture-required'] });
  });

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
  });

  afterAll(async () => {
    await closeAllBrowsers();
    await stack?.close();
    await stopAllProcesses();
    deleteAllNetns();
  });

  return {
    get stack() {
      return stack;
    },
    get browser() {
      return browser;
    },
    get ns() {
      return ns;
    },
    phones,
    async two(options = {}) {
      const group = `calls-${++groupCounter}`;
      const port = (options.on ?? stack).port;
      const a = await Phone.open(browser, ns, port, { name: 'alice', ...options.a }, group);
      const b = await Phone.open(browser, ns, port, { name: 'bob', ...options.b }, group);
      phones.push(a, b);
      return [a, b];
    },
    /** a calls b with media both ways; resolves when both are connected. */
    async connected(a, b, media = { audio: true, video: true }) {
      const call = await a.call(b.cid, { media });
      await b.waitFor(`window.t.incoming && window.t.incoming.call === ${JSON.stringify(call)}`);
      await b.accept({ media });
      await a.waitFor(`window.t.connectionState() === 'connected'`);
      await b.waitFor(`window.t.connectionState() === 'connected'`);
      const callerMs = await a.eval<number>('window.t.connectedAfter(window.t.resolvedAt)');
      const calleeMs = await b.eval<number>('window.t.connectedAfter(window.t.acceptedAt)');
      return { call, callerMs, calleeMs };
    },
  };
}

/** Resolves at the wall-clock time `at` (ms since the epoch); at once when it has passed. */
export async function waitUntil(at: number): Promise<void> {
  const ms = at - Date.now();
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}
