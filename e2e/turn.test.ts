/**
 * NAT traversal proof in a network with no direct path between the peers:
 *
 *   A (10.77.1.1) ── T ── B (10.77.2.1)      no route A ↔ B, T does not forward
 *
 * T holds 10.77.0.2 (its "public" address, routed from A and B) where `switchboard serve`
 * (the CLI, serving the browser bundle from --static) and coturn listen; coturn relays from
 * 10.77.0.1, which A and B cannot reach, so a call can only connect relay ↔ relay. coturn
 * runs from the configuration `switchboard turn-config` prints for the same settings.
 * Chromium runs in A and in B (fake camera). Each scenario gets its own server config:
 * TURN over UDP, `iceTransportPolicy: 'relay'` where a direct path exists, TURN over TCP only
 * and TURN over TLS on 443 only (UDP dropped on A's and B's links), no TURN (RTC_ICE_FAILED
 * saying so; the app's own `ice` still works), a wrong secret (RTC_ICE_FAILED naming the 401),
 * a short credential TTL (a call after the first credentials expired), and
 * `switchboard doctor` from inside A (working and wrong secret).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import type { Browser, BrowserContext } from 'playwright-core';
import { turnCredential } from '@switchboard/server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  blockUdpOn, closeAllBrowsers, createRelayTopology, deleteAllNetns, describeWith, installWebrtcStats, launchChromium,
  median, startProcess, stopAllProcesses, unblockUdpOn, waitForPort, type ManagedProcess, type RelayTopology,
} from '@switchboard/test-utils';
import { PAGE_HTML, PAGE_SCRIPT, type Phone } from './turn-support/page.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUNDLE = join(ROOT, 'packages/client/dist/switchboard.browser.js'); // npm run build -w @switchboard/client
const CLI = join(ROOT, 'packages/cli/dist/bin.js');
const T_IP = '10.77.0.2';
const TURN_PORT = 3478;
const SECRET = 'turn-e2e-shared-secret-0123456789';
const PORTS = { udp: 8081, tcp: 8082, none: 8083, ttl: 8084, wrong: 8085, tls: 8086 } as const;
/** Short ICE timings so a call without a path fails fast: first attempt 3 s, one restart of 3 s. */
const CALL_OPTIONS = { iceDisconnectGraceMs: 500, maxIceRestarts: 1, iceRestartTimeoutMs: 3000 };
const TURN_UDP = `turn:${T_IP}:${TURN_PORT}?transport=udp`;
const TURN_TCP = `turn:${T_IP}:${TURN_PORT}?transport=tcp`;
const TURN_TLS = `turns:${T_IP}:443?transport=tcp`;
const STUN = `stun:${T_IP}:${TURN_PORT}`;

describeWith(['chromium', 'netns', 'coturn'], 'NAT traversal across A–T–B (no direct path), TURN from `switchboard turn-config`', () => {
  let topo: RelayTopology;
  let staticDir: string;
  let work: string;
  let coturn: ManagedProcess;
  const browsers: { a?: Browser; b?: Browser } = {};
  const servers: ManagedProcess[] = [];
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
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
    const openssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', `/CN=${T_IP}`, '-addext', `subjectAltName=IP:${T_IP}`, '-keyout', key, '-out', cert], { encoding: 'utf8' });
    expect(openssl.status, openssl.stderr).toBe(0);
    // Chromium checks TURN TLS certificates (self-signed: error 701): trust exactly this one.
    const spki = createHash('sha256').update(new X509Certificate(readFileSync(cert)).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    const conf = spawnSync(process.execPath, [CLI, 'turn-config', '--listening-ip', T_IP, '--relay-ip', topo.tRelayIp, '--min-port', '49152', '--max-port', '49400',
      '--cert', cert, '--pkey', key], {
      encoding: 'utf8',
      env: { ...process.env, SWITCHBOARD_CONFIG: '', SWITCHBOARD_ICE_TURN: `${TURN_UDP},${TURN_TCP},${TURN_TLS}`, SWITCHBOARD_ICE_TURN_SECRETS: SECRET },
    });
    expect(conf.status, conf.stderr).toBe(0);
    expect(conf.stdout).toContain(`allowed-peer-ip=${topo.tRelayIp}`);
    writeFileSync(join(work, 'turnserver.conf'), conf.stdout);
    coturn = await startProcess('turnserver', ['-c', join(work, 'turnserver.conf'), '--pidfile', join(work, 'turnserver.pid'), '--userdb', join(work, 'turndb'), '-v'], {
      netns: topo.t, name: 'coturn(T)',
    });
    await waitForPort(TURN_PORT, { netns: topo.t, protocol: 'udp', whileAlive: coturn });
    await waitForPort(TURN_PORT, { netns: topo.t, protocol: 'tcp', whileAlive: coturn });
    await waitForPort(443, { netns: topo.t, protocol: 'tcp', whileAlive: coturn });

    const origins = Object.values(PORTS).map((p) => `http://${T_IP}:${p}`).join(',');
    const args = [`--unsafely-treat-insecure-origin-as-secure=${origins}`, '--autoplay-policy=no-user-gesture-required', `--ignore-certificate-errors-spki-list=${spki}`];
    [browsers.a, browsers.b] = await Promise.all([launchChromium({ netns: topo.a, args }), launchChromium({ netns: topo.b, args })]);
  });

  afterAll(async () => {
    await closeAllBrowsers();
    await stopAllProcesses();
    deleteAllNetns();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** `switchboard serve` inside T with these ice settings. */
  async function serve(port: number, ice: Record<string, unknown>): Promise<ManagedProcess> {
    const file = join(work, `switchboard-${port}.json`);
    // coturn holds UDP 3478 in T and answers STUN itself: the server's own STUN stays off (docs/turn.md).
    writeFileSync(file, JSON.stringify({ ice: { stun: [STUN], turnSecrets: [SECRET], ...ice }, stun: { enabled: false }, guests: true }));
    const proc = await startProcess(process.execPath, [
      CLI, 'serve', '--http', '--host', T_IP, '--port', String(port), '--config', file, '--static', staticDir,
      '--data-dir', join(work, `data-${port}`), '--log-level', 'warn',
    ], { netns: topo.t, env: { ...process.env, SWITCHBOARD_CONFIG: '' }, waitForLine: /Switchboard is running/, name: `switchboard(T):${port}` });
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
    const cid = (await page.evaluate((o) => (window as unknown as { t: { connect(o: unknown): Promise<string> } }).t.connect(o), { name, ...CALL_OPTIONS })) as string;
    const ev = <T>(expression: string) => page.evaluate(expression) as Promise<T>;
    return {
      page, context, cid, eval: ev,
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
    const selected = await p.eval<{ local: { candidateType: string; relayProtocol: string | null; address: string }; remote: { candidateType: string; address: string } }>('window.t.pair()');
    expect(selected).toMatchObject({ local: { candidateType: 'relay', relayProtocol: protocol, address: topo.tRelayIp }, remote: { candidateType: 'relay', address: topo.tRelayIp } });
  }

  it('TURN over UDP (server ice settings, default policy): relay/relay, both sides decode video', async () => {
    await withServer(PORTS.udp, { turn: [TURN_UDP] }, async () => {
      const [a, b] = await pair(PORTS.udp);
      const first = await connect(a, b);
      await a.waitFor('window.t.frames().then((n) => n > 10)', 15_000);
      await b.waitFor('window.t.frames().then((n) => n > 10)', 15_000);
      await expectRelayRelay(a, 'udp');
      await expectRelayRelay(b, 'udp');
      const frames = [await a.eval<number>('window.t.frames()'), await b.eval<number>('window.t.frames()')];
      await hangup(a, b);
      const times = [first];
      for (let i = 0; i < 2; i++) {
        times.push(await connect(a, b));
        await hangup(a, b);
      }
      console.info(`[turn] UDP relay/relay: call→connected median ${Math.round(median(times.map((x) => x.callMs)))} ms (${times.map((x) => Math.round(x.callMs)).join(', ')}), accept→connected median ${Math.round(median(times.map((x) => x.acceptMs)))} ms; frames decoded a=${frames[0]} b=${frames[1]}`);
    });
  }, 90_000);

  it('iceTransportPolicy "relay" forces TURN even where a direct path exists (two pages in A)', async () => {
    await withServer(PORTS.udp, { turn: [TURN_UDP] }, async () => {
      const a = await phone(browsers.a!, PORTS.udp, 'alice');
      const a2 = await phone(browsers.a!, PORTS.udp, 'alice-2');
      await connect(a, a2);
      const direct = await a.eval<{ local: { candidateType: string } }>('window.t.pair()');
      expect(direct.local.candidateType).not.toBe('relay'); // host/host inside A
      await hangup(a, a2);
      await connect(a, a2, { iceTransportPolicy: 'relay' });
      await expectRelayRelay(a, 'udp');
      await expectRelayRelay(a2, 'udp');
      await hangup(a, a2);
    });
  }, 60_000);

  it('TURN over TCP only (?transport=tcp, UDP dropped on both links): relay/relay over TCP, video decoded', async () => {
    await withServer(PORTS.tcp, { turn: [TURN_TCP] }, async () => {
      try {
        const [a, b] = await pair(PORTS.tcp);
        blockUdpOn(peerLinks(topo));
        const times = [await connect(a, b)];
        await a.waitFor('window.t.frames().then((n) => n > 10)', 15_000);
        await b.waitFor('window.t.frames().then((n) => n > 10)', 15_000);
        await expectRelayRelay(a, 'tcp');
        await expectRelayRelay(b, 'tcp');
        await hangup(a, b);
        for (let i = 0; i < 2; i++) {
          times.push(await connect(a, b));
          await hangup(a, b);
        }
        console.info(`[turn] TCP-only relay/relay (UDP dropped): call→connected median ${Math.round(median(times.map((x) => x.callMs)))} ms (${times.map((x) => Math.round(x.callMs)).join(', ')}), accept→connected median ${Math.round(median(times.map((x) => x.acceptMs)))} ms`);
      } finally {
        unblockUdpOn(peerLinks(topo));
      }
    });
  }, 90_000);

  it('TURN over TLS on 443 only (turns:, UDP dropped on both links): relay/relay, relayProtocol tls', async () => {
    await withServer(PORTS.tls, { turn: [TURN_TLS] }, async () => {
      try {
        const [a, b] = await pair(PORTS.tls);
        blockUdpOn(peerLinks(topo));
        const { acceptMs } = await connect(a, b);
        await b.waitFor('window.t.frames().then((n) => n > 0)', 15_000);
        await expectRelayRelay(a, 'tls');
        await expectRelayRelay(b, 'tls');
        await hangup(a, b);
        console.info(`[turn] TLS-only (turns: on 443, UDP dropped): relay/relay, accept→connected ${Math.round(acceptMs)} ms`);
      } finally {
        unblockUdpOn(peerLinks(topo));
      }
    });
  }, 60_000);

  it('TURN removed from the config: RTC_ICE_FAILED saying no TURN is configured within 10 s (3 s attempt + 1 restart of 3 s); the app\'s own `ice` still connects', async () => {
    await withServer(PORTS.none, { turn: [], turnSecrets: [] }, async () => {
      const [a, b] = await pair(PORTS.none);
      expect(await a.eval('window.t.ice()')).toEqual([{ urls: [STUN] }]);
      await failedCall(a, b);
      const failMs = await b.eval<number>('window.t.closed()[0].at - window.t.acceptedAt');
      const callerMs = await a.eval<number>('window.t.closed()[0].at - window.t.startedAt');
      const messages = await iceFailures(a, b);
      expect(messages.some((m) => /^No network path between the peers \(ICE failed after 1 restart\)\. No TURN server is configured for this call/.test(m))).toBe(true);
      expect(await a.eval('window.t.state()')).not.toBe('connected');
      expect(failMs).toBeLessThan(10_000);
      console.info(`[turn] no TURN: RTC_ICE_FAILED ${Math.round(failMs)} ms after accept at the callee, ${Math.round(callerMs)} ms after connectRTC at the caller; messages: ${JSON.stringify(messages)}`);

      // The app's own TURN (connectRTC/accept with `ice` as RTCIceServer[]) overrides the server's list.
      const expiry = Math.floor(Date.now() / 1000) + 600;
      const own = (user: string) => [{ urls: [TURN_UDP], ...turnCredential(SECRET, user, expiry) }];
      await connect(a, b, { ice: own('alice') }, { ice: own('bob') });
      await expectRelayRelay(a, 'udp');
      await expectRelayRelay(b, 'udp');
      await hangup(a, b);
    });
  }, 60_000);

  it('credential refresh: with a 5 s TTL, a call made after the first credentials expired still connects (the old ones are refused)', async () => {
    await withServer(PORTS.ttl, { turn: [TURN_UDP], turnTtlSeconds: 5 }, async () => {
      const [a, b] = await pair(PORTS.ttl);
      const firstIce = await a.eval<{ urls: string[]; username?: string; credential?: string }[]>('window.t.ice()');
      const firstUser = firstIce.find((s) => s.username)!.username!;
      const expiry = Number(firstUser.split(':')[0]) * 1000;
      await connect(a, b, { iceTransportPolicy: 'relay' });
      await expectRelayRelay(a, 'udp');
      await hangup(a, b);
      // Wait (in the page's time) until the first credentials are past their expiry and the SDK holds fresh ones.
      await a.waitFor(`Date.now() > ${expiry + 1000} && window.t.ice().some((s) => s.username && s.username !== ${JSON.stringify(firstUser)})`, 20_000);
      const stale = await a.eval<{ found: string[]; errors: number[] }>(`window.t.relayCandidates(${JSON.stringify(firstIce)})`);
      expect(stale.found).toEqual([]); // coturn refuses the expired credential
      expect(stale.errors).toContain(401);
      const fresh = await a.eval<{ found: string[] }>('window.t.relayCandidates(window.t.ice())');
      expect(fresh.found.length).toBeGreaterThan(0);
      const second = await connect(a, b, { iceTransportPolicy: 'relay' });
      await expectRelayRelay(a, 'udp');
      await expectRelayRelay(b, 'udp');
      await b.waitFor('window.t.frames().then((n) => n > 0)', 15_000);
      await hangup(a, b);
      console.info(`[turn] refresh: first credentials expired at ${new Date(expiry).toISOString()}; the stale ones draw 401; a new call with refreshed ones connected in ${Math.round(second.callMs)} ms`);
    });
  }, 60_000);

  it('a wrong TURN secret: the call fails with RTC_ICE_FAILED saying the TURN server refused the credentials (401)', async () => {
    await withServer(PORTS.wrong, { turn: [TURN_UDP], turnSecrets: ['not-the-coturn-secret'] }, async () => {
      const [a, b] = await pair(PORTS.wrong);
      await failedCall(a, b);
      const messages = await iceFailures(a, b);
      expect(messages.some((m) => m.includes(`The TURN server refused the credentials (401 Unauthorized from ${TURN_UDP})`))).toBe(true);
      console.info(`[turn] wrong secret: ${JSON.stringify(messages)}`);
    });
  }, 60_000);

  it('`switchboard doctor` from inside A: all checks pass through T; with a wrong secret it names the secret', async () => {
    const good = await serve(PORTS.udp, { turn: [TURN_UDP, TURN_TCP] });
    const wrong = await serve(PORTS.wrong, { turn: [TURN_UDP, TURN_TCP], turnSecrets: ['not-the-coturn-secret'] });
    try {
      const run = (port: number) => spawnSync('ip', ['netns', 'exec', topo.a.name, process.execPath, CLI, 'doctor', `http://${T_IP}:${port}`, '--timeout', '3000'], {
        encoding: 'utf8', timeout: 60_000, env: { ...process.env, SWITCHBOARD_CONFIG: '' },
      });
      const ok = run(PORTS.udp);
      expect(ok.status, ok.stdout + ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/ok {4}TURN turn:10\.77\.0\.2:3478\?transport=udp: allocation over UDP: relay address 10\.77\.0\.1:\d+/);
      expect(ok.stdout).toMatch(/ok {4}TURN turn:10\.77\.0\.2:3478\?transport=tcp: allocation over TCP/);
      expect(ok.stdout).toMatch(/ok {4}Data through the relay: two relay-only peers connected/);
      const bad = run(PORTS.wrong);
      expect(bad.status).toBe(1);
      expect(bad.stdout).toMatch(/FAIL {2}TURN turn:10\.77\.0\.2:3478\?transport=udp: credentials refused \(401 Unauthorized\) although they are valid for .* the shared secret differs/);
      expect(bad.stdout).toMatch(/Wrong TURN secret/);
      console.info(`[turn] doctor from A:\n${ok.stdout}`);
    } finally {
      await good.stop();
      await wrong.stop();
    }
  }, 60_000);
});

/** A's and B's links to T: blocking UDP there (TCP still passes) leaves only TURN over TCP or TLS. */
const peerLinks = (topo: RelayTopology) =>
  [[topo.a, topo.linkA.devices[0]], [topo.b, topo.linkB.devices[0]]] as const;
