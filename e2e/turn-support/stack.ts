/**
 * The A–T–B network of the TURN suite (turn.test.ts) and what runs in it: T holds the
 * "public" address where `switchboard serve` and coturn (configured by `switchboard
 * turn-config`, with a self-signed certificate for TURN over TLS) listen; Chromium runs in A
 * and in B. Servers, phones and calls for one scenario at a time.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import type { Browser, BrowserContext } from 'playwright-core';
import { expect } from 'vitest';
import {
  closeAllBrowsers,
  createRelayTopology,
  deleteAllNetns,
  installWebrtcStats,
  launchChromium,
  startProcess,
  stopAllProcesses,
  waitForPort,
  type ManagedProcess,
  type RelayTopology,
} from '@switchboard/test-utils';
import { PAGE_HTML, PAGE_SCRIPT, type Phone } from './page.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BUNDLE = join(ROOT, 'packages/client/dist/switchboard.browser.js'); // npm run build -w @switchboard/client
export const CLI = join(ROOT, 'packages/cli/dist/bin.js');
export const T_IP = '10.77.0.2';
export const TURN_PORT = 3478;
export const SECRET = 'turn-e2e-shared-secret-0123456789';
export const PORTS = { udp: 8081, tcp: 8082, none: 8083, ttl: 8084, wrong: 8085, tls: 8086 } as const;
/** Short ICE timings so a call without a path fails fast: first attempt 3 s, one restart of 3 s. */
export const CALL_OPTIONS = { iceDisconnectGraceMs: 500, maxIceRestarts: 1, iceRestartTimeoutMs: 3000 };
export const TURN_UDP = `turn:${T_IP}:${TURN_PORT}?transport=udp`;
export const TURN_TCP = `turn:${T_IP}:${TURN_PORT}?transport=tcp`;
export const TURN_TLS = `turns:${T_IP}:443?transport=tcp`;
export const STUN = `stun:${T_IP}:${TURN_PORT}`;

export type TurnStack = ReturnType<typeof createTurnStack>;

/** Start with `start()` in beforeAll, `stop()` in afterAll; the rest for the tests. */
export function createTurnStack() {
  let topo: RelayTopology;
  let staticDir: string;
  let work: string;
  let coturn: ManagedProcess;
  const browsers: { a?: Browser; b?: Browser } = {};
  const servers: ManagedProcess[] = [];
  const contexts: BrowserContext[] = [];

  async function start(): Promise<void> {
    work = mkdtempSync(join(tmpdir(), 'sb-turn-e2e-'));
    staticDir = join(work, 'static');
    spawnSync('mkdir', ['-p', staticDir]);
    copyFileSync(BUNDLE, join(staticDir, 'switchboard.browser.js'));
    writeFileSync(join(staticDir, 'turn-app.js'), PAGE_SCRIPT);
    writeFileSync(join(staticDir, 'index.html'), PAGE_HTML);

    topo = createRelayTopology();
    topo.t.exec('ip', ['addr', 'add', `${T_IP}/32`, 'dev', 'lo']);
    topo.a.exec('ip', ['route', 'add', `${T_IP}/32`, 'via', topo.tIpA]);
    topo.b.exec('ip', ['route', 'add', `${T_IP}/32`, 'via', topo.tIpB]);
    expect(topo.a.hasRoute(topo.bIp)).toBe(false);
    expect(topo.a.hasRoute(topo.tRelayIp)).toBe(false);

    // coturn configured by `switchboard turn-config` for the same settings the servers use.
    // A self-signed certificate for T's address (TURN over TLS on 443).
    const cert = join(work, 'turn-cert.pem');
    const key = join(work, 'turn-key.pem');
    const openssl = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        `/CN=${T_IP}`,
        '-addext',
        `subjectAltName=IP:${T_IP}`,
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { encoding: 'utf8' },
    );
    expect(openssl.status, openssl.stderr).toBe(0);
    // Chromium checks TURN TLS certificates (self-signed: error 701): trust exactly this one.
    const spki = createHash('sha256')
      .update(new X509Certificate(readFileSync(cert)).publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64');
    const conf = spawnSync(
      process.execPath,
      [CLI, 'turn-config', '--listening-ip', T_IP, '--relay-ip', topo.tRelayIp, '--min-port', '49152', '--max-port', '49400', '--cert', cert, '--pkey', key],
      {
        encoding: 'utf8',
        env: { ...process.env, SWITCHBOARD_CONFIG: '', SWITCHBOARD_ICE_TURN: `${TURN_UDP},${TURN_TCP},${TURN_TLS}`, SWITCHBOARD_ICE_TURN_SECRETS: SECRET },
      },
    );
    expect(conf.status, conf.stderr).toBe(0);
    expect(conf.stdout).toContain(`allowed-peer-ip=${topo.tRelayIp}`);
    writeFileSync(join(work, 'turnserver.conf'), conf.stdout);
    coturn = await startProcess(
      'turnserver',
      ['-c', join(work, 'turnserver.conf'), '--pidfile', join(work, 'turnserver.pid'), '--userdb', join(work, 'turndb'), '-v'],
      {
        netns: topo.t,
        name: 'coturn(T)',
      },
    );
    await waitForPort(TURN_PORT, { netns: topo.t, protocol: 'udp', whileAlive: coturn });
    await waitForPort(TURN_PORT, { netns: topo.t, protocol: 'tcp', whileAlive: coturn });
    await waitForPort(443, { netns: topo.t, protocol: 'tcp', whileAlive: coturn });

    const origins = Object.values(PORTS)
      .map((p) => `http://${T_IP}:${p}`)
      .join(',');
    const args = [
      `--unsafely-treat-insecure-origin-as-secure=${origins}`,
      '--autoplay-policy=no-user-gesture-required',
      `--ignore-certificate-errors-spki-list=${spki}`,
    ];
    [browsers.a, browsers.b] = await Promise.all([launchChromium({ netns: topo.a, args }), launchChromium({ netns: topo.b, args })]);
  }

  async function stop(): Promise<void> {
    await closeAllBrowsers();
    await stopAllProcesses();
    deleteAllNetns();
    if (work) rmSync(work, { recursive: true, force: true });
  }

  /** `switchboard serve` inside T with these ice settings. */
  async function serve(port: number, ice: Record<string, unknown>): Promise<ManagedProcess> {
    const file = join(work, `switchboard-${port}.json`);
    // coturn holds UDP 3478 in T and answers STUN itself: the server's own STUN stays off (docs/turn.md).
    writeFileSync(file, JSON.stringify({ ice: { stun: [STUN], turnSecrets: [SECRET], ...ice }, stun: { enabled: false }, guests: true }));
    const proc = await startProcess(
      process.execPath,
      [
        CLI,
        'serve',
        '--http',
        '--host',
        T_IP,
        '--port',
        String(port),
        '--config',
        file,
        '--static',
        staticDir,
        '--data-dir',
        join(work, `data-${port}`),
        '--log-level',
        'warn',
      ],
      { netns: topo.t, env: { ...process.env, SWITCHBOARD_CONFIG: '' }, waitForLine: /Switchboard is running/, name: `switchboard(T):${port}` },
    );
    servers.push(proc);
    return proc;
  }

  async function phone(browser: Browser, port: number, name: string): Promise<Phone> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    if (process.env['TURN_DEBUG']) page.on('console', (m) => console.log(`[${name}] ${m.text()}`));
    await installWebrtcStats(page);
    await page.goto(`http://${T_IP}:${port}/`);
    await page.waitForFunction('window.__ready === true');
    const cid = (await page.evaluate((o) => (window as unknown as { t: { connect(o: unknown): Promise<string> } }).t.connect(o), {
      name,
      ...CALL_OPTIONS,
    })) as string;
    const ev = <T>(expression: string) => page.evaluate(expression) as Promise<T>;
    return {
      page,
      context,
      cid,
      eval: ev,
      async waitFor(expression, timeoutMs = 20_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          if (await ev(expression)) return;
          if (Date.now() > deadline) throw new Error(`${name}: timed out after ${timeoutMs} ms waiting for ${expression}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      },
    };
  }

  async function pair(port: number): Promise<[Phone, Phone]> {
    return [await phone(browsers.a!, port, 'alice'), await phone(browsers.b!, port, 'bob')];
  }

  /** A server on `port` handing out `ice` for one test; its phones and the server are gone afterwards. */
  async function withServer(port: number, ice: Record<string, unknown>, body: () => Promise<void>): Promise<void> {
    const server = await serve(port, ice);
    try {
      await body();
    } finally {
      await closePhones();
      await server.stop();
    }
  }

  async function closePhones(): Promise<void> {
    await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => undefined)));
  }

  /** a calls b (fake camera both ways); resolves once both are connected, with the caller's call→connected and the callee's accept→connected times. */
  async function connect(a: Phone, b: Phone, params: Record<string, unknown> = {}, calleeParams = params): Promise<{ callMs: number; acceptMs: number }> {
    await a.eval('window.t.clear()');
    await b.eval('window.t.clear()');
    const media = { audio: false, video: true };
    await a.eval(`window.t.call(${JSON.stringify(b.cid)}, ${JSON.stringify({ media, ...params })})`);
    await b.waitFor('window.t.incoming !== null');
    await b.eval(`window.t.accept(${JSON.stringify({ media, ...calleeParams })})`);
    await a.waitFor(`window.t.state() === 'connected'`, 15_000);
    await b.waitFor(`window.t.state() === 'connected'`, 15_000);
    await a.waitFor('window.t.connectedAt !== null');
    await b.waitFor('window.t.connectedAt !== null');
    return {
      callMs: await a.eval<number>('window.t.connectedAt - window.t.startedAt'),
      acceptMs: await b.eval<number>('window.t.connectedAt - window.t.acceptedAt'),
    };
  }

  /** a calls b (fake camera) where no path can work; resolves once both sides got rtc:closed. */
  async function failedCall(a: Phone, b: Phone): Promise<void> {
    const media = { audio: false, video: true };
    await a.eval(`window.t.call(${JSON.stringify(b.cid)}, ${JSON.stringify({ media })})`);
    await b.waitFor('window.t.incoming !== null');
    await b.eval(`window.t.accept(${JSON.stringify({ media })})`);
    await a.waitFor('window.t.closed().length === 1', 20_000);
    await b.waitFor('window.t.closed().length === 1', 20_000);
  }

  async function hangup(a: Phone, b: Phone): Promise<void> {
    await a.eval('window.t.hangup()');
    await a.waitFor('window.t.closed().length === 1');
    await b.waitFor('window.t.closed().length === 1');
  }

  /** Both sides ended with rtc:closed ice_failed / RTC_ICE_FAILED mentioning TURN; returns the two messages. */
  async function iceFailures(a: Phone, b: Phone): Promise<string[]> {
    const messages: string[] = [];
    for (const p of [a, b]) {
      const closed = (await p.eval<{ message: { reason: string; error: { code: string; message: string } | null } }[]>('window.t.closed()'))[0]!;
      expect(closed.message.reason).toBe('ice_failed');
      expect(closed.message.error).toMatchObject({ code: 'RTC_ICE_FAILED', message: expect.stringMatching(/TURN/) });
      messages.push(closed.message.error!.message);
    }
    return messages;
  }

  async function expectRelayRelay(p: Phone, protocol: 'udp' | 'tcp' | 'tls'): Promise<void> {
    const selected = await p.eval<{
      local: { candidateType: string; relayProtocol: string | null; address: string };
      remote: { candidateType: string; address: string };
    }>('window.t.pair()');
    expect(selected).toMatchObject({
      local: { candidateType: 'relay', relayProtocol: protocol, address: topo.tRelayIp },
      remote: { candidateType: 'relay', address: topo.tRelayIp },
    });
  }

  return {
    get topo(): RelayTopology {
      return topo;
    },
    get browsers(): { a?: Browser; b?: Browser } {
      return browsers;
    },
    get work(): string {
      return work;
    },
    get coturn(): ManagedProcess {
      return coturn;
    },
    start,
    stop,
    serve,
    phone,
    pair,
    withServer,
    closePhones,
    connect,
    failedCall,
    hangup,
    iceFailures,
    expectRelayRelay,
  };
}
