/**
 * Debian's Chromium driven by playwright-core, with fake camera/microphone, optionally inside a
 * network namespace (Playwright's executablePath is then a wrapper doing
 * `exec ip netns exec "$NS" /usr/bin/chromium "$@"`). See testing-webrtc.md.
 */
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';
import { onExit } from './cleanup.js';
import type { Netns } from './netns.js';
import { CHROMIUM_PATH, requireOrSkip } from './requirements.js';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { CHROMIUM_PATH };

/** Flags that work on these machines (`--headless` is added by Playwright; no --user-data-dir). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

export interface LaunchChromiumOptions {
  /** Run the browser inside this namespace (a Netns from netns.ts, or a namespace name). */
  netns?: Netns | string;
  /** Extra Chromium flags, e.g. `--unsafely-treat-insecure-origin-as-secure=http://10.77.1.2:8080`. */
  args?: string[];
  /** Default true. */
  headless?: boolean;
  /** Launch timeout (default 30 s). */
  timeoutMs?: number;
  /** Anything else Playwright's launch() takes. */
  launch?: Omit<LaunchOptions, 'executablePath' | 'args' | 'headless' | 'timeout'>;
}

/** Skip reason when Chromium is missing (null when present); throws under CI=true. */
export const requireChromiumOrSkip = (): string | null => requireOrSkip('chromium');

const browsers = new Set<Browser>();
const wrappers = new Map<string, string>();

/** An executable that runs Chromium inside namespace `name` (made once per name). */
export function chromiumWrapper(name: string): string {
  let path = wrappers.get(name);
  if (path) return path;
  const dir = mkdtempSync(join(tmpdir(), 'sb-chromium-'));
  path = join(dir, 'chromium');
  writeFileSync(path, `#!/bin/sh\nexec ip netns exec '${name}' '${CHROMIUM_PATH}' "$@"\n`);
  chmodSync(path, 0o755);
  wrappers.set(name, path);
  onExit(() => rmSync(dir, { recursive: true, force: true }));
  return path;
}

export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<Browser> {
  const executablePath =
    options.netns === undefined ? CHROMIUM_PATH : typeof options.netns === 'string' ? chromiumWrapper(options.netns) : options.netns.chromiumPath;
  const browser = await chromium.launch({
    ...options.launch,
    executablePath,
    headless: options.headless ?? true,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
    timeout: options.timeoutMs ?? 30_000,
  });
  browsers.add(browser);
  browser.on('disconnected', () => browsers.delete(browser));
  return browser;
}

/** Closes every browser launched here (use in afterAll). */
export async function closeAllBrowsers(): Promise<void> {
  await Promise.all([...browsers].map((b) => b.close().catch(() => undefined)));
}
