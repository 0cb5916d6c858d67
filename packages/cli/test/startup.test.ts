/**
 * `switchboard serve` as users run it (child processes): start-up failures print one plain
 * line naming the setting and its source and exit with the documented code; `--static .`
 * in a directory holding the data dir never hands out the secret.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureSelfSigned } from '@switchboard/server';
import { EXIT_REDIS_UNREACHABLE, EXIT_STARTUP, EXIT_USAGE } from '../src/errors.js';
import { bin, ensureCliBuilt } from './built-cli.js';

beforeAll(ensureCliBuilt, 120_000);

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-start-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function spawnCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): ChildProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? tempDir(),
    env: { ...process.env, SWITCHBOARD_CONFIG: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

async function runToEnd(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  return { code, stdout, stderr };
}

/** Exit code `code`, and stderr is one line: `<setting>: … (from <source>)`, no stack. */
async function expectStartFailure(args: string[], code: number, setting: string, source: string, options: { cwd?: string; env?: Record<string, string> } = {}) {
  const out = await runToEnd(args, options);
  expect({ code: out.code, stderr: out.stderr }).toMatchObject({ code });
  expect(out.stderr.endsWith('\n')).toBe(true);
  expect(out.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(out.stderr).toMatch(new RegExp(`^switchboard( serve)?: (Invalid configuration: )?${setting.replace('.', '\\.')}: `));
  expect(out.stderr).toContain(`(from ${source})\n`);
  expect(out.stderr).not.toMatch(/^\s+at /m);
  expect(out.stdout).not.toContain('Switchboard is running');
  return out.stderr;
}

const HTTP = ['serve', '--http', '--port', '0', '--host', '127.0.0.1', '--log-level', 'silent'];

describe('serve: start-up failures are one line naming the setting and its source', { timeout: 60_000 }, () => {
  it(`exits ${EXIT_STARTUP} when the port is in use (flag, env or default source)`, async () => {
    const busy = createNetServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => busy.close(() => resolve())));
    const port = String((busy.address() as AddressInfo).port);
    const line = await expectStartFailure(['serve', '--http', '--host', '127.0.0.1', '--port', port], EXIT_STARTUP, 'port', '--port');
    expect(line).toBe(`switchboard serve: port: ${port} is already in use on 127.0.0.1 (from --port)\n`);
    await expectStartFailure(['serve', '--http', '--host', '127.0.0.1'], EXIT_STARTUP, 'port', 'SWITCHBOARD_PORT', { env: { SWITCHBOARD_PORT: port } });
  });

  it(`exits ${EXIT_STARTUP} for a host that is not an address of this machine`, async () => {
    await expectStartFailure(['serve', '--http', '--port', '0', '--host', '192.0.2.1'], EXIT_STARTUP, 'host', '--host');
    await expectStartFailure(['serve', '--http', '--port', '0'], EXIT_STARTUP, 'host', 'SWITCHBOARD_HOST', { env: { SWITCHBOARD_HOST: '192.0.2.1' } });
  });

  it(`exits ${EXIT_STARTUP} when the data dir cannot be written`, async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a-file'), 'not a directory');
    const line = await expectStartFailure([...HTTP, '--data-dir', join(dir, 'a-file', 'data')], EXIT_STARTUP, 'dataDir', '--data-dir');
    expect(line).toContain('ENOTDIR');
    await expectStartFailure(['serve', '--port', '0', '--host', '127.0.0.1', '--secret', 's'.repeat(20)], EXIT_STARTUP, 'dataDir', 'SWITCHBOARD_DATA_DIR', {
      env: { SWITCHBOARD_DATA_DIR: join(dir, 'a-file', 'data') }, // self-signed TLS needs to write there
    });
  });

  it(`exits ${EXIT_STARTUP} for an unreadable, malformed or mismatched TLS cert/key`, async () => {
    const dir = tempDir();
    const a = await ensureSelfSigned(join(dir, 'a'));
    const b = await ensureSelfSigned(join(dir, 'b'));
    const certA = join(dir, 'a', 'tls', 'cert.pem');
    const keyB = join(dir, 'b', 'tls', 'key.pem');
    writeFileSync(join(dir, 'junk.pem'), 'not a pem');
    const tls = ['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dir];
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(await expectStartFailure([...tls, '--cert', join(dir, 'missing.pem'), '--key', keyB], EXIT_STARTUP, 'tls.cert', '--cert')).toContain('ENOENT');
    await expectStartFailure([...tls, '--cert', certA, '--key', join(dir, 'missing.pem')], EXIT_STARTUP, 'tls.key', '--key');
    await expectStartFailure([...tls, '--cert', join(dir, 'junk.pem'), '--key', keyB], EXIT_STARTUP, 'tls.cert', '--cert');
    await expectStartFailure([...tls, '--cert', certA, '--key', join(dir, 'junk.pem')], EXIT_STARTUP, 'tls.key', '--key');
    const mismatch = await expectStartFailure([...tls, '--cert', certA, '--key', keyB], EXIT_STARTUP, 'tls.key', '--key');
    expect(mismatch).toContain('is not the private key of tls.cert');
    writeFileSync(join(dir, 'sb.json'), JSON.stringify({ tls: { mode: 'files', cert: certA, key: keyB } }));
    await expectStartFailure(
      ['serve', '--port', '0', '--host', '127.0.0.1', '--config', join(dir, 'sb.json')],
      EXIT_STARTUP,
      'tls.key',
      `config file ${join(dir, 'sb.json')}`,
    );
  });

  it(`exits ${EXIT_USAGE} for a malformed Redis URL, its password hidden`, async () => {
    const secret = ['--secret', 'r'.repeat(20)];
    const line = await expectStartFailure([...HTTP, ...secret, '--redis', 'redis://:hunter2@cache:99999'], EXIT_USAGE, 'redis', '--redis');
    expect(line).not.toContain('hunter2');
    await expectStartFailure([...HTTP, ...secret], EXIT_USAGE, 'redis', 'SWITCHBOARD_REDIS', { env: { SWITCHBOARD_REDIS: 'redis://:6379' } });
  });

  it(`exits ${EXIT_REDIS_UNREACHABLE} naming the redis setting when Redis cannot be reached`, async () => {
    const closed = createNetServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expectStartFailure([...HTTP, '--secret', 'r'.repeat(20), '--redis', `redis://127.0.0.1:${port}`], EXIT_REDIS_UNREACHABLE, 'redis', '--redis', {
      env: { SWITCHBOARD_CLUSTER_CONNECT_TIMEOUT_MS: '300' },
    });
  });

  it(`refuses heartbeatMs=3e9 (a timer Node cannot arm) with exit ${EXIT_USAGE}, naming heartbeatMs`, async () => {
    const env = await expectStartFailure(HTTP, EXIT_USAGE, 'heartbeatMs', 'SWITCHBOARD_HEARTBEAT_MS', { env: { SWITCHBOARD_HEARTBEAT_MS: '3e9' } });
    expect(env).toContain('heartbeatMs: expected a number between 10 and 600000, got 3000000000');
    const dir = tempDir();
    writeFileSync(join(dir, 'sb.json'), '{ "heartbeatMs": 3e9 }');
    await expectStartFailure([...HTTP, '--config', 'sb.json'], EXIT_USAGE, 'heartbeatMs', 'config file sb.json', { cwd: dir });
    await expectStartFailure(HTTP, EXIT_USAGE, 'cluster.nodeTimeoutMs', 'SWITCHBOARD_CLUSTER_NODE_TIMEOUT_MS', {
      env: { SWITCHBOARD_CLUSTER_NODE_TIMEOUT_MS: String(2 ** 31) },
    });
  });
});

/** A raw request: the path goes on the wire exactly as written. */
function raw(port: number, method: 'GET' | 'HEAD', path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function startIn(cwd: string, extra: string[] = []): Promise<{ port: number; child: ChildProcess }> {
  const child = spawnCli([...HTTP, '--static', '.', ...extra], { cwd });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /Local:\s+http:\/\/localhost:(\d+)\//.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  cleanups.push(async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });
  return { port, child };
}

describe('serve --static . never hands out secrets', { timeout: 60_000 }, () => {
  it(`refuses (exit ${EXIT_STARTUP}) a config file the static directory would serve; a dot-named one is fine`, async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'switchboard.json'), JSON.stringify({ auth: { secrets: ['a-secret-of-at-least-16-chars'] } }));
    const line = await expectStartFailure([...HTTP, '--static', '.', '--config', 'switchboard.json'], EXIT_STARTUP, 'staticDir', '--static', { cwd });
    expect(line).toContain('switchboard.json');
    writeFileSync(join(cwd, '.switchboard.json'), JSON.stringify({ auth: { secrets: ['a-secret-of-at-least-16-chars'] } }));
    writeFileSync(join(cwd, 'index.html'), '<title>app</title>');
    const { port } = await startIn(cwd, ['--config', '.switchboard.json']);
    expect((await raw(port, 'GET', '/.switchboard.json')).status).toBe(404);
  });

  it('keeps ./.switchboard (secret, TLS key), .git and symlinks out of the root at 404; serves the app', async () => {
    const base = tempDir();
    const cwd = join(base, 'app');
    mkdirSync(join(cwd, '.git'), { recursive: true });
    writeFileSync(join(cwd, 'index.html'), '<title>app</title>');
    writeFileSync(join(cwd, '.git', 'config'), 'url = git@private');
    writeFileSync(join(base, 'outside.txt'), 'outside-private');
    symlinkSync(join(base, 'outside.txt'), join(cwd, 'outside.txt'));
    await ensureSelfSigned(join(cwd, '.switchboard')); // as a previous HTTPS run would leave it
    const { port } = await startIn(cwd);
    const secret = readFileSync(join(cwd, '.switchboard', 'secret'), 'utf8').trim();
    for (const path of [
      '/.switchboard/secret',
      '/%2eswitchboard/secret',
      '/.switchboard%2fsecret',
      '/%252eswitchboard/secret',
      '/x/..%2f.switchboard/secret',
      '/.switchboard/tls/key.pem',
      '/.switchboard\\tls\\key.pem',
      '/.git/config',
      '/%2Egit/config',
      '/outside.txt',
      '/..%2foutside.txt',
    ]) {
      for (const method of ['GET', 'HEAD'] as const) {
        const res = await raw(port, method, path);
        expect({ path, method, status: res.status }).toEqual({ path, method, status: 404 });
        expect(res.body).not.toContain(secret);
        expect(res.body).not.toContain('private');
      }
    }
    expect(await raw(port, 'GET', '/')).toMatchObject({ status: 200, body: '<title>app</title>' });
    expect((await raw(port, 'HEAD', '/index.html')).status).toBe(200);
  });

  it('keeps a data dir without a dot in its name at 404 too', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'index.html'), '<title>app</title>');
    const { port } = await startIn(cwd, ['--data-dir', 'state']);
    const secret = readFileSync(join(cwd, 'state', 'secret'), 'utf8').trim();
    for (const path of ['/state/secret', '/%73tate/secret', '/state%2Fsecret']) {
      const res = await raw(port, 'GET', path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body).not.toContain(secret);
    }
    expect((await raw(port, 'GET', '/index.html')).status).toBe(200);
  });
});
