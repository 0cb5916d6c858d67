/**
 * `switchboard doctor` against the real server and a real coturn (loopback, started here):
 * the happy path (STUN, TURN over UDP and TCP, node-datachannel relay gathering, data through
 * the relay), a wrong secret, an expired credential (a Switchboard host whose clock is behind),
 * an unreachable TURN server, no TURN at all, auth problems, a server that is down, and usage.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type SwitchboardConfigInput } from '@switchboard/server';
import { doctorArgs, formatReport, runDoctor, type Check, type DoctorReport } from '../src/commands/doctor.js';
import { isLocalHost } from '../src/commands/doctor/trust.js';
import { UsageError } from '../src/errors.js';
import { describeWith, freePort, startCoturn, stopAllProcesses, type CoturnHandle } from '@switchboard/test-utils';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = join(root, 'packages/cli/dist/bin.js');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
beforeAll(() => ensureBuilt(), 120_000);
afterAll(async () => {
  await stopAllProcesses();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sb-doctor-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function switchboard(config: SwitchboardConfigInput = {}): Promise<string> {
  const server = createServer({ host: '127.0.0.1', tls: { mode: 'off' }, logLevel: 'silent', dataDir: tempDir(), ...config });
  const { url } = await server.listen(0, '127.0.0.1');
  cleanups.push(() => server.close());
  return url;
}

const byId = (report: DoctorReport, id: string): Check[] => report.checks.filter((c) => c.id === id);
const statuses = (report: DoctorReport) => report.checks.map((c) => `${c.id}:${c.status}`);

function doctor(url: string, extra: Partial<Parameters<typeof runDoctor>[0]> = {}): Promise<DoctorReport> {
  return runDoctor({ url, timeoutMs: 2000, bindAddress: '127.0.0.1', ...extra });
}

/** Rebuilds the CLI when its dist is older than the sources (child-process tests run dist/bin.js). */
function ensureBuilt(): void {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce(
      (m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs),
      0,
    );
  const stale = ['protocol', 'server', 'cli'].some((p) => {
    try {
      return statSync(join(root, 'packages', p, 'tsconfig.tsbuildinfo')).mtimeMs < newest(join(root, 'packages', p, 'src'));
    } catch {
      return true;
    }
  });
  if (stale) execFileSync(join(root, 'node_modules/.bin/tsc'), ['-b', 'packages/cli'], { cwd: root, stdio: 'inherit' });
}

function runCli(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = [], cwd = tempDir()) {
  const child = spawn(process.execPath, [...nodeArgs, bin, ...args], {
    cwd,
    env: { ...process.env, SWITCHBOARD_CONFIG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    async line(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = out.match(pattern);
        if (m) return m;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} in: ${out} ${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

describeWith(['coturn'], 'switchboard doctor against coturn', () => {
  let turn: CoturnHandle;
  let ice: SwitchboardConfigInput['ice'];

  beforeAll(async () => {
    // Relay from 127.0.0.2: the peers' host sockets (127.0.0.1) get no permission there, so the only
    // path between them is relay to relay (with 127.0.0.1 libjuice may settle on host/prflx).
    turn = await startCoturn({ verbose: false, relayIp: '127.0.0.2' });
    ice = {
      stun: [`stun:127.0.0.1:${turn.port}`],
      turn: turn.urls('127.0.0.1', ['udp', 'tcp']),
      turnSecrets: [turn.secret],
      turnTtlSeconds: 600,
    };
  });
  afterAll(async () => {
    await turn?.stop();
  });

  it('a working deployment: every check passes, TURN over UDP and TCP allocates, data flows through the relay', async () => {
    const url = await switchboard({ ice });
    const report = await doctor(url);
    expect(statuses(report)).toEqual([
      'http:ok',
      'auth:ok',
      'websocket:ok',
      'ice-endpoint:ok',
      'ice:warn', // no turns: (TLS) URL
      'credentials:ok',
      'stun:ok',
      'stun:ok',
      'turn:ok',
      'turn:ok',
      'turn-native:ok',
      'relay:ok',
    ]);
    expect(report.ok).toBe(true);
    // The server's own STUN comes first and is named as such; coturn's is on the same host, so it is too.
    expect(byId(report, 'stun')[0]!.name).toMatch(/^STUN stun:127\.0\.0\.1:\d+ \(this server\)$/);
    expect(byId(report, 'stun')[0]!.detail).toMatch(/^reachable, sees this machine as 127\.0\.0\.1:\d+/);
    expect(byId(report, 'ice')[0]!.fix).toMatch(/turns:HOST:443\?transport=tcp/);
    expect(byId(report, 'turn').map((c) => c.detail)).toEqual([
      expect.stringMatching(/allocation over UDP: relay address 127\.0\.0\.2:\d+/),
      expect.stringMatching(/allocation over TCP: relay address 127\.0\.0\.2:\d+/),
    ]);
    expect(byId(report, 'turn-native')[0]!.detail).toMatch(/typ relay/);
    expect(byId(report, 'relay')[0]!.detail).toMatch(/\((relay\/\w+|\w+\/relay)\) and echoed/);
    // The WebRTC stack ran in child processes: its native threads never entered this one.
    expect(readFileSync('/proc/self/maps', 'utf8')).not.toMatch(/node_datachannel/);
    console.info(
      `[doctor] all checks in ${report.checks
        .map((c) => (c.ms === undefined ? '' : `${c.id} ${Math.round(c.ms)} ms`))
        .filter(Boolean)
        .join(', ')}`,
    );
  });

  it('a wrong secret: TURN refuses the credentials and the report names the secret mismatch', async () => {
    const url = await switchboard({ ice: { ...ice, turnSecrets: ['not-the-coturn-secret'] } });
    const report = await doctor(url);
    expect(report.ok).toBe(false);
    const turnChecks = byId(report, 'turn');
    expect(turnChecks).toHaveLength(2);
    for (const c of turnChecks) {
      expect(c).toMatchObject({ status: 'fail', cause: 'credentials-rejected' });
      expect(c.detail).toMatch(/401 Unauthorized.*the shared secret differs/);
    }
    expect(byId(report, 'credentials')[0]!.status).toBe('ok'); // they are not expired
    expect(byId(report, 'turn-native')[0]).toMatchObject({ status: 'skip' });
    expect(formatReport(report)).toMatch(/Wrong TURN secret: coturn's static-auth-secret must be one of Switchboard's ice.turnSecrets/);
  });

  it('an expired credential (the Switchboard host clock is 2 h behind): exit 1 and the report says "expired"', async () => {
    // The server runs as `switchboard serve` with Date shifted back by two hours; coturn keeps the real time.
    const skew = `const R = Date; const s = -2 * 3600 * 1000;
      class D extends R { constructor(...a) { if (a.length === 0) super(R.now() + s); else super(...a); } static now() { return R.now() + s; } }
      globalThis.Date = D;`;
    const server = runCli(
      ['serve', '--http', '--port', '0', '--host', '127.0.0.1', '--data-dir', tempDir(), '--log-level', 'silent'],
      {
        SWITCHBOARD_ICE_TURN: ice!.turn!.join(','),
        SWITCHBOARD_ICE_TURN_SECRETS: turn.secret,
        SWITCHBOARD_ICE_TURN_TTL_SECONDS: '3600',
      },
      ['--import', `data:text/javascript,${encodeURIComponent(skew)}`],
    );
    const [, base] = await server.line(/Local:\s+(http:\/\/\S+?)\/?\n/);
    const run = runCli(['doctor', base!, '--timeout', '2000']);
    expect(await run.exited).toBe(1);
    const out = run.stdout();
    expect(out).toMatch(/FAIL {2}TURN credentials: the server mints credentials that are already expired: ".*" expired (59|60|61) min ago/);
    expect(out).toMatch(/FAIL {2}TURN turn:127\.0\.0\.1:\d+\?transport=udp: credentials refused \(401 Unauthorized\): the credential expired/);
    expect(out).toMatch(/Expired TURN credential: synchronise the clocks/);
    expect(out).toMatch(/FAILED: .* 3 failed/);
    server.child.kill('SIGTERM');
    await server.exited;
  });

  it('an unreachable TURN server (UDP and TCP): "unreachable" with what to open', async () => {
    const dead = await freePort();
    const url = await switchboard({
      ice: { turn: [`turn:127.0.0.1:${dead}?transport=udp`, `turn:127.0.0.1:${dead}?transport=tcp`], turnSecrets: [turn.secret] },
    });
    const report = await doctor(url);
    expect(report.ok).toBe(false);
    expect(byId(report, 'turn').map((c) => [c.status, c.cause])).toEqual([
      ['fail', 'unreachable'],
      ['fail', 'unreachable'],
    ]);
    expect(byId(report, 'turn')[1]!.detail).toMatch(/connection refused/);
    expect(byId(report, 'turn')[0]!.fix).toMatch(new RegExp(`is coturn running with listening-port ${dead}, and is UDP ${dead} open`));
  });

  it('the CLI prints the plain report and exits 0 when everything works (--json too)', async () => {
    const url = await switchboard({ ice });
    const text = runCli(['doctor', url, '--timeout', '3000']);
    expect(await text.exited).toBe(0);
    expect(text.stdout()).toMatch(/^Switchboard doctor: http:\/\/127\.0\.0\.1:\d+\/\n {2}ok {4}Server: /);
    expect(text.stdout()).toMatch(/ok {4}Data through the relay: two relay-only peers connected/);
    expect(text.stdout()).toMatch(/OK: 11 passed, 0 failed, 1 warning\.\n$/);
    const json = runCli(['doctor', url, '--json', '--timeout', '3000']);
    expect(await json.exited).toBe(0);
    expect(JSON.parse(json.stdout())).toMatchObject({ ok: true, failures: 0, warnings: 1 });
  }, 90_000); // two full runs, each check bounded by --timeout
});

describe('switchboard doctor without TURN', () => {
  it('no TURN configured is a failure naming RTC_ICE_FAILED (a warning with --allow-no-turn, and for a local server)', async () => {
    const url = await switchboard({ ice: { stun: [] } });
    const report = await doctor(url, { allowNoTurn: false });
    expect(report.ok).toBe(false);
    expect(byId(report, 'ice')[0]).toMatchObject({ status: 'fail', cause: 'no-turn' });
    expect(byId(report, 'ice')[0]!.detail).toMatch(/RTC_ICE_FAILED/);
    expect(byId(report, 'ice')[0]!.fix).toMatch(/switchboard turn-config/);
    const lenient = await doctor(url, { allowNoTurn: true });
    expect(lenient.ok).toBe(true);
    expect(byId(lenient, 'ice')[0]!.status).toBe('warn');
    // 127.0.0.1 is this machine: without --allow-no-turn, a warning too.
    const local = await doctor(url);
    expect(local.ok).toBe(true);
    expect(byId(local, 'ice')[0]).toMatchObject({ status: 'warn', cause: 'no-turn' });
  });

  it("the server's own STUN: probed and named; silent on its host: what to open; turned off with nothing else: a warning", async () => {
    const own = await doctor(await switchboard({ ice: { stun: [] } }));
    expect(byId(own, 'stun')).toEqual([expect.objectContaining({ status: 'ok', name: expect.stringMatching(/^STUN stun:127\.0\.0\.1:\d+ \(this server\)$/) })]);

    const dead = await freePort();
    const silent = await doctor(await switchboard({ stun: { enabled: false }, ice: { stun: [`stun:127.0.0.1:${dead}`] } }), { timeoutMs: 500 });
    expect(byId(silent, 'stun')).toEqual([
      expect.objectContaining({ status: 'fail', cause: 'unreachable', name: `STUN stun:127.0.0.1:${dead} (this server)` }),
    ]);
    expect(byId(silent, 'stun')[0]!.fix).toMatch(new RegExp(`open UDP ${dead} \\(stun\\.port\\) in the firewall`));

    const none = await doctor(await switchboard({ stun: { enabled: false }, ice: { stun: [] } }));
    expect(byId(none, 'stun')).toEqual([expect.objectContaining({ status: 'warn', cause: 'no-stun' })]);
    expect(byId(none, 'stun')[0]!.fix).toMatch(/stun\.enabled/);
  });

  it('what counts as a local server (no TURN: a warning)', () => {
    for (const host of [
      'localhost',
      'app.localhost',
      '127.0.0.1',
      '[::1]',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.9',
      '169.254.0.7',
      '[fd00::1]',
      '[fe80::1]',
      'raspberrypi.local',
    ]) {
      expect(isLocalHost(host), host).toBe(true);
    }
    for (const host of ['calls.example.com', '8.8.8.8', '172.32.0.1', '100.64.0.1', '[2001:db8::1]', 'localhost.example.com']) {
      expect(isLocalHost(host), host).toBe(false);
    }
  });

  it('auth: guests off without --token fails with GUESTS_DISABLED; a bad token is named; a good one passes', async () => {
    const secret = 'doctor-test-secret-0123456789';
    const server = createServer({
      host: '127.0.0.1',
      tls: { mode: 'off' },
      logLevel: 'silent',
      dataDir: tempDir(),
      guests: false,
      auth: { secrets: [secret] },
    });
    const { url } = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());
    const noToken = await doctor(url, { allowNoTurn: true });
    expect(byId(noToken, 'auth')[0]).toMatchObject({ status: 'fail', cause: 'GUESTS_DISABLED' });
    expect(byId(noToken, 'auth')[0]!.fix).toMatch(/--token/);
    const bad = await doctor(url, { token: 'x.y.z', allowNoTurn: true });
    expect(byId(bad, 'auth')[0]).toMatchObject({ status: 'fail' });
    expect(bad.checks).toHaveLength(2); // stops there
    const good = await doctor(url, { token: await server.issueToken({ user_id: 'ops' }), allowNoTurn: true });
    expect(statuses(good)).toEqual(['http:ok', 'auth:ok', 'websocket:ok', 'ice-endpoint:ok', 'ice:warn', 'stun:ok']);
    expect(good.ok).toBe(true);
  });

  it('HTTPS with the self-signed certificate: named as a certificate problem with the fix; --ca trusts it; --insecure checks the rest', async () => {
    const dataDir = tempDir();
    const server = createServer({ host: '127.0.0.1', tls: { mode: 'self-signed' }, logLevel: 'silent', dataDir });
    const { url } = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());
    expect(url).toMatch(/^https:/);
    const strict = await doctor(url, { allowNoTurn: true });
    expect(strict.checks).toEqual([expect.objectContaining({ id: 'http', status: 'fail', cause: 'tls' })]);
    expect(strict.checks[0]!.detail).toMatch(/^TLS certificate problem: the server's certificate is self-signed and not trusted/);
    expect(strict.checks[0]!.fix).toMatch(/The certificate is the problem, not the server/);
    expect(strict.checks[0]!.fix).toMatch(/--ca <dataDir>\/tls\/cert\.pem/);
    expect(strict.checks[0]!.fix).toMatch(/NODE_EXTRA_CA_CERTS=/);
    expect(strict.checks[0]!.fix).toMatch(/--insecure/);
    const trusted = await doctor(url, { caFile: join(dataDir, 'tls', 'cert.pem') });
    expect(statuses(trusted)).toEqual(['http:ok', 'auth:ok', 'websocket:ok', 'ice-endpoint:ok', 'ice:warn', 'stun:ok']);
    expect(trusted.checks[0]!.detail).toMatch(/certificate trusted from .*cert\.pem/);
    const insecure = await doctor(url, { allowNoTurn: true, insecure: true });
    expect(statuses(insecure)).toEqual(['http:ok', 'auth:ok', 'websocket:ok', 'ice-endpoint:ok', 'ice:warn', 'stun:ok']);
    // Another server's certificate does not help, and the report says which file it trusted.
    const otherDir = tempDir();
    const other = createServer({ host: '127.0.0.1', tls: { mode: 'self-signed' }, logLevel: 'silent', dataDir: otherDir });
    await other.listen(0, '127.0.0.1');
    cleanups.push(() => other.close());
    const wrong = await doctor(url, { caFile: join(otherDir, 'tls', 'cert.pem') });
    expect(wrong.checks[0]!.detail).toMatch(/cert\.pem was trusted, but the server's certificate is another one/);
  });

  it('the CLI run beside the default server (./.switchboard) trusts its certificate: exit 0, no TURN only a warning', async () => {
    const cwd = tempDir();
    const server = createServer({ host: '127.0.0.1', tls: { mode: 'self-signed' }, logLevel: 'silent', dataDir: join(cwd, '.switchboard') });
    const { url } = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());
    const local = url.replace('127.0.0.1', 'localhost');
    const beside = runCli(['doctor', local, '--timeout', '3000'], {}, [], cwd);
    expect(await beside.exited).toBe(0);
    expect(beside.stdout()).toMatch(/ok {4}Server: .*certificate trusted from \.switchboard\/tls\/cert\.pem/);
    expect(beside.stdout()).toMatch(/WARN {2}ICE servers: no TURN server configured/);
    const elsewhere = runCli(['doctor', local, '--timeout', '3000']);
    expect(await elsewhere.exited).toBe(1);
    expect(elsewhere.stdout()).toMatch(/FAIL {2}Server: TLS certificate problem: the server's certificate is self-signed/);
    const missing = runCli(['doctor', local, '--ca', 'nope.pem']);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toMatch(/--ca: cannot read .*nope\.pem/);
  });

  it('a server that is not there: one failed check, "connection refused"', async () => {
    const report = await doctor(`http://127.0.0.1:${await freePort()}`);
    expect(report.checks).toHaveLength(1);
    expect(report.checks[0]).toMatchObject({ id: 'http', status: 'fail', cause: 'unreachable' });
    expect(report.checks[0]!.detail).toMatch(/connection refused/);
  });

  it('the CLI: doctor --help, a missing URL exits 2; turn-config without TURN settings exits 2 naming ice.turn', async () => {
    const help = runCli(['doctor', '--help']);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toMatch(/^Usage: switchboard doctor <url> \[options\]/);
    const missing = runCli(['doctor']);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toContain('switchboard doctor: the server URL is required.');
    const noTurn = runCli(['turn-config']);
    expect(await noTurn.exited).toBe(2);
    expect(noTurn.stderr()).toMatch(/ice\.turn: no TURN URLs configured/);
    const turnHelp = runCli(['turn-config', '--help']);
    expect(await turnHelp.exited).toBe(0);
    expect(turnHelp.stdout()).toMatch(/^Usage: switchboard turn-config/);
  });

  it('usage: a URL is required, --timeout is checked, ws:// and paths are accepted', () => {
    expect(() => doctorArgs([])).toThrow(UsageError);
    expect(() => doctorArgs(['a', 'b'])).toThrow('give one server URL');
    expect(() => doctorArgs(['http://x', '--timeout', 'soon'])).toThrow('--timeout');
    expect(() => doctorArgs(['ftp://x'])).toThrow('expected an http(s):// or ws(s):// URL');
    expect(doctorArgs(['--help'])).toBeNull();
    expect(doctorArgs(['wss://sb.example.com/v1/realtime', '--token', 't', '--insecure'])!.options).toMatchObject({
      url: 'wss://sb.example.com/v1/realtime',
      token: 't',
      insecure: true,
      timeoutMs: 5000,
    });
  });
});
