/**
 * The CLI as users run it: `node dist/bin.js …` in a child process.
 * The package is (re)built first when its dist is older than the sources.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ConfigError } from '@switchboard/server';
import { UsageError } from '../src/errors.js';
import { serveConfig } from '../src/serve.js';
import { token } from '../src/token.js';
import { bin, ensureCliBuilt } from './built-cli.js';

beforeAll(ensureCliBuilt, 120_000);

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: tempDir(),
    env: { ...process.env, ...env, SWITCHBOARD_CONFIG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = out.match(pattern);
          if (match) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; stdout: ${out}; stderr: ${err}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then(() => {
          if (listeners.has(check)) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`exited before ${pattern}; stdout: ${out}; stderr: ${err}`));
          }
        });
        check();
      });
    },
  };
}

async function runToEnd(args: string[], env: Record<string, string> = {}) {
  const r = run(args, env);
  const { code } = await r.exited;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

function welcomeOf(url: string, token: string, options: { ca?: string } = {}): Promise<{ ws: WebSocket; welcome: Record<string, any> }> {
  const ws = new WebSocket(url, ['switchboard.v1', `bearer.${token}`], options);
  cleanups.push(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('message', (d) => resolve({ ws, welcome: JSON.parse(d.toString()) }));
    ws.once('error', reject);
  });
}

describe('switchboard serve', () => {
  it('starts over HTTP, answers /healthz, accepts a `switchboard token` JWT, and stops on SIGTERM with close 4000', async () => {
    const dataDir = tempDir();
    const server = run(['serve', '--http', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'silent']);
    const [, base] = await server.waitFor(/Local:\s+(http:\/\/\S+?)\/?\n/);
    expect(server.stdout()).toMatch(/Realtime:\s+ws:\/\/localhost:\d+\/v1\/realtime/);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });

    const tokenRun = await runToEnd(['token', '--user', 'alice', '--name', 'Alice', '--ttl', '600', '--data-dir', dataDir]);
    expect(tokenRun.code).toBe(0);
    const token = tokenRun.stdout.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const { ws, welcome } = await welcomeOf(`${base!.replace('http', 'ws')}/v1/realtime`, token);
    expect(welcome).toMatchObject({ type: 'welcome', user: { user_id: 'alice', name: 'Alice' } });

    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    expect(await closed).toBe(4000);
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });

  it('serves HTTPS with a self-signed certificate that is reused across two starts', async () => {
    const dataDir = tempDir();
    const fingerprints: string[] = [];
    for (let i = 0; i < 2; i++) {
      const server = run(['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'silent']);
      const [, base] = await server.waitFor(/Local:\s+(https:\/\/\S+?)\/?\n/);
      const [, printed] = await server.waitFor(/SHA-256 ([0-9A-F:]+)/);
      const seen = await new Promise<string>((resolve, reject) => {
        const req = request(`${base}/healthz`, { rejectUnauthorized: false }, (res) => {
          const fp = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
          res.resume();
          res.on('end', () => resolve(fp));
        });
        req.on('error', reject);
        req.end();
      });
      expect(seen).toBe(printed);
      fingerprints.push(seen);
      server.child.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
    }
    expect(fingerprints[1]).toBe(fingerprints[0]);
  });

  it('exits 2 with a clear message for unknown flags and bad settings', async () => {
    const unknown = await runToEnd(['serve', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--bogus'");
    expect(unknown.stderr).toContain('switchboard serve --help');

    const badEnv = await runToEnd(['serve', '--http', '--data-dir', tempDir()], { SWITCHBOARD_LIMITS_MAX_FRAME_BYTES: 'abc' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('limits.maxFrameBytes: expected a number between 1024 and 16777216, got "abc" (from SWITCHBOARD_LIMITS_MAX_FRAME_BYTES)');
  });

  it('parses flags into the config (in-process)', () => {
    const dir = tempDir();
    const config = serveConfig(
      [
        '--http',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--no-guests',
        '--secret',
        'a'.repeat(16),
        '--secret',
        'b'.repeat(16),
        '--data-dir',
        dir,
        '--static',
        dir,
        '--log-level',
        'warn',
      ],
      {},
    )!;
    expect(config).toMatchObject({
      port: 0,
      host: '127.0.0.1',
      tls: { mode: 'off' },
      guests: false,
      dataDir: dir,
      staticDir: dir,
      logLevel: 'warn',
      auth: { secrets: ['a'.repeat(16), 'b'.repeat(16)] },
    });
    expect(serveConfig(['--cert', 'c.pem', '--key', 'k.pem'], {})!.tls).toMatchObject({ mode: 'files', cert: expect.stringMatching(/c\.pem$/) });
    expect(serveConfig(['--help'], {})).toBeNull();
    expect(() => serveConfig(['--port', 'abc'], {})).toThrow(ConfigError);
    expect(() => serveConfig(['--port', 'abc'], {})).toThrow('port: expected a number between 0 and 65535, got "abc"');
    expect(() => serveConfig(['--http', '--cert', 'c', '--key', 'k'], {})).toThrow(UsageError);
    expect(() => serveConfig(['--cert', 'c'], {})).toThrow('--cert and --key go together.');
    expect(() => serveConfig(['extra'], {})).toThrow(UsageError);
    expect(() => serveConfig(['--log-level', 'loud', '--http'], {})).toThrow('logLevel: expected one of');
    expect(serveConfig(['--http'], { SWITCHBOARD_PORT: '9999' })!.port).toBe(9999);
    expect(serveConfig(['--http', '--port', '1234'], { SWITCHBOARD_PORT: '9999' })!.port).toBe(1234);
    const jwks = serveConfig(['--http', '--jwks', 'https://idp.example/.well-known/jwks.json', '--secret', 'a'.repeat(16)], {
      SWITCHBOARD_AUTH_AUDIENCE: 'calls',
    })!;
    expect(jwks.auth).toMatchObject({ jwks: 'https://idp.example/.well-known/jwks.json', audience: 'calls', issuer: null, secrets: ['a'.repeat(16)] });
    expect(() => serveConfig(['--jwks', 'not a url'], {})).toThrow('auth.jwks: expected an http(s) URL');
  });

  it('lists serve, token, doctor and turn-config in --help; unknown commands exit 2', async () => {
    const help = await runToEnd(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['serve', 'token', 'doctor', 'turn-config']) expect(help.stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
    const unknownCommand = await runToEnd(['frobnicate']);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain('unknown command "frobnicate"');
  });
});

describe('switchboard token', () => {
  it('requires --user and validates --ttl (in-process)', async () => {
    await expect(token([], {})).rejects.toThrow(UsageError);
    await expect(token(['--user', 'a', '--ttl', 'soon', '--secret', 'x'.repeat(20)], {})).rejects.toThrow('--ttl');
    await expect(token(['--user', 'cid:nope', '--secret', 'x'.repeat(20)], {})).rejects.toThrow('--user');
    await expect(token(['--user', 'a', '--frob'], {})).rejects.toThrow(UsageError);
    const jwt = await token(['--user', 'a', '--name', 'A', '--ttl', '60', '--secret', 'x'.repeat(20)], {});
    const payload = JSON.parse(Buffer.from(jwt!.split('.')[1]!, 'base64url').toString());
    expect(payload).toMatchObject({ sub: 'a', name: 'A' });
    expect(payload.exp - payload.iat).toBe(60);
  });

  it('exits 2 without --user', async () => {
    const out = await runToEnd(['token']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--user ID is required.');
  });

  it('signs with --secret, verifiable by a server configured with that secret', async () => {
    const secret = 'cli-secret-0123456789abcdef';
    const out = await runToEnd(['token', '--user', 'bob', '--secret', secret]);
    expect(out.code).toBe(0);
    const server = run([
      'serve',
      '--http',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--secret',
      'another-secret-abcdefghij',
      '--secret',
      secret,
      '--data-dir',
      tempDir(),
      '--log-level',
      'silent',
    ]);
    const [, base] = await server.waitFor(/Local:\s+(http:\/\/\S+?)\/?\n/);
    const { welcome } = await welcomeOf(`${base!.replace('http', 'ws')}/v1/realtime`, out.stdout.trim());
    expect(welcome.user.user_id).toBe('bob');
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });
});
