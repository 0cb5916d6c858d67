/**
 * Debian's Firefox ESR driven by puppeteer-core over WebDriver BiDi, with fake camera and
 * microphone, a fresh profile per launch (puppeteer creates and removes it), optionally inside
 * a network namespace.
 *
 * Two facts shape this file (see testing-webrtc.md):
 * - In a namespace holding only `lo`, Firefox gathers no ICE candidates at all: it gathers only
 *   the address of the interface that carries the default route. `prepareNetnsForFirefox` gives
 *   the namespace a veth pair with both ends inside it, addresses and a default route over one
 *   end; nothing leaves the namespace.
 * - Puppeteer cannot talk to Firefox over a pipe: it reads `ws://127.0.0.1:<port>` from
 *   Firefox's stderr and connects to it. Inside a namespace that address is the namespace's own
 *   loopback, so the port is bridged back to the host: a listener on the same port here, a Unix
 *   socket (file-system sockets cross namespaces), and a small Node relay inside the namespace.
 */
import { accessSync, chmodSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { onExit } from './cleanup.js';
import type { Netns } from './netns.js';
import { freePort, startProcess, type ManagedProcess } from './processes.js';
import { describe } from 'vitest';
import { isCI, requireOrSkip, type Requirement } from './requirements.js';

export const FIREFOX_PATH = process.env['SWITCHBOARD_FIREFOX'] ?? '/usr/bin/firefox-esr';

/** Prefs for fake media and loopback ICE that work with Firefox 153 ESR. */
export const FIREFOX_PREFS: Readonly<Record<string, unknown>> = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'media.peerconnection.ice.loopback': true,
  // Host candidates as addresses, not mDNS names (there is no mDNS responder in a namespace).
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.peerconnection.ice.link_local': true,
  // VP8 only: there is no OpenH264 download here.
  'media.webrtc.hw.h264.enabled': false,
  'media.gmp-gmpopenh264.enabled': false,
  'media.gmp-manager.updateEnabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
};

/** Reason Firefox is missing (null when present); throws under CI=true: those suites must run in CI. */
export function requireFirefoxOrSkip(): string | null {
  try {
    accessSync(FIREFOX_PATH, constants.X_OK);
    return null;
  } catch {
    const reason = `Firefox not found at ${FIREFOX_PATH} (apt-get install -y firefox-esr)`;
    if (isCI()) throw new Error(`Required under CI=true: ${reason}`);
    console.warn(`[e2e] skipping: ${reason}`);
    return reason;
  }
}

/** `describeWith` plus Firefox: describe.skip with the reason locally, a failing file under CI=true. */
export function describeWithFirefox(requirements: Requirement[], title: string, body: () => void): void {
  const reason = requireOrSkip(...requirements) ?? requireFirefoxOrSkip();
  if (reason === null) describe(title, body);
  else describe.skip(`${title} [skipped: ${reason}]`, body);
}

const prepared = new Set<string>();
let vethCounter = 0;

/**
 * Gives a namespace what Firefox needs to gather a candidate: a veth pair whose two ends both
 * stay inside it (10.78.<n>.1 and .2/24) and a default route over the first end. Idempotent
 * per namespace. Returns the address Firefox gathers.
 */
export function prepareNetnsForFirefox(ns: Netns, subnet = `10.78.${vethCounter % 250}`): string {
  const address = `${subnet}.1`;
  if (prepared.has(ns.name)) return address;
  const base = `f${process.pid.toString(36)}${(vethCounter++).toString(36)}`;
  ns.exec('ip', ['link', 'add', `${base}a`, 'type', 'veth', 'peer', 'name', `${base}b`]);
  ns.exec('ip', ['addr', 'add', `${address}/24`, 'dev', `${base}a`]);
  ns.exec('ip', ['addr', 'add', `${subnet}.2/24`, 'dev', `${base}b`]);
  ns.exec('ip', ['link', 'set', `${base}a`, 'up']);
  ns.exec('ip', ['link', 'set', `${base}b`, 'up']);
  ns.exec('ip', ['route', 'add', 'default', 'via', `${subnet}.2`, 'dev', `${base}a`]);
  prepared.add(ns.name);
  return address;
}

export interface LaunchFirefoxOptions {
  /** Run the browser inside this namespace (it is prepared with prepareNetnsForFirefox). */
  netns?: Netns;
  /** Extra prefs on top of FIREFOX_PREFS. */
  prefs?: Record<string, unknown>;
  /** Default true. */
  headless?: boolean;
  /** Launch timeout (default 60 s: Firefox's first start on a fresh profile is slow on 2 cores). */
  timeoutMs?: number;
}

/** Host port → the same port on the namespace's 127.0.0.1 (for the BiDi WebSocket). */
interface Bridge {
  port: number;
  close(): Promise<void>;
}

const RELAY = `
const net = require('node:net');
const [path, port] = process.argv.slice(1);
const server = net.createServer((inbound) => {
  const outbound = net.connect(Number(port), '127.0.0.1');
  inbound.pipe(outbound).pipe(inbound);
  const kill = () => { inbound.destroy(); outbound.destroy(); };
  inbound.on('error', kill); outbound.on('error', kill);
});
server.listen(path, () => console.log('relay ready'));
process.on('SIGTERM', () => process.exit(0));
`;

async function bridgeFromNetns(ns: Netns): Promise<Bridge> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sb-ffbridge-'));
  const path = join(dir, 'sock');
  const relay: ManagedProcess = await startProcess(process.execPath, ['-e', RELAY, path, String(port)], {
    name: 'firefox-bidi-relay',
    netns: ns,
    waitForLine: 'relay ready',
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(path);
    sockets.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const kill = (): void => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    inbound.on('error', kill).on('close', kill);
    outbound.on('error', kill).on('close', kill);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return {
    port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await relay.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const browsers = new Set<Browser>();

export async function launchFirefox(options: LaunchFirefoxOptions = {}): Promise<Browser> {
  const prefs = { ...FIREFOX_PREFS, ...options.prefs };
  const launch = {
    browser: 'firefox' as const,
    protocol: 'webDriverBiDi' as const,
    headless: options.headless ?? true,
    timeout: options.timeoutMs ?? 60_000,
    extraPrefsFirefox: prefs,
    // Puppeteer's own SIGINT/SIGTERM handlers would race the harness's cleanup.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  };
  if (!options.netns) {
    const browser = await puppeteer.launch({ ...launch, executablePath: FIREFOX_PATH });
    return track(browser, async () => undefined);
  }
  const ns = options.netns;
  prepareNetnsForFirefox(ns);
  const bridge = await bridgeFromNetns(ns);
  const dir = mkdtempSync(join(tmpdir(), 'sb-firefox-'));
  const wrapper = join(dir, 'firefox');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec '${ns.name}' '${FIREFOX_PATH}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  const cleanup = async (): Promise<void> => {
    await bridge.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  const unregister = onExit(() => rmSync(dir, { recursive: true, force: true }));
  try {
    // The same port inside the namespace as the bridge's here: the ws:// URL Firefox prints works on both sides.
    const browser = await puppeteer.launch({ ...launch, executablePath: wrapper, debuggingPort: bridge.port });
    return track(browser, async () => {
      unregister();
      await cleanup();
    });
  } catch (err) {
    unregister();
    await cleanup();
    throw err;
  }
}

function track(browser: Browser, after: () => Promise<void>): Browser {
  browsers.add(browser);
  browser.once('disconnected', () => {
    browsers.delete(browser);
    void after();
  });
  const pid = browser.process()?.pid;
  if (pid !== undefined) {
    onExit(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    });
  }
  return browser;
}

/** Closes every Firefox launched here (use in afterAll). */
export async function closeAllFirefox(): Promise<void> {
  await Promise.all([...browsers].map((b) => b.close().catch(() => undefined)));
}
