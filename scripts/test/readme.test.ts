/**
 * Every shell command of README.md and examples/node-bot/README.md (their ```sh blocks), run as
 * written, with bash, in a copy of the built checkout (see makeWorkspace): one-shot commands must
 * exit 0; servers (`serve`, `npm start`) are started, probed on /healthz and stopped; the bot is
 * started and must print its ready line; a usage synopsis must match the command's --help.
 *
 * What is not run as written, and why (the only departures):
 *  - `npm ci`, `npm run build`: the suites run on the installed, built checkout (`npm test`
 *    builds first); the first test checks what `npm ci` needs to link the bins instead.
 *  - `npm test`: this test runs inside it; only its script is checked.
 *  - `npm start`: its script without the leading `npm run build && ` (same reason).
 *  - Ports: every command gets SWITCHBOARD_PORT=0 and SWITCHBOARD_HOST=127.0.0.1 in its
 *    environment (flags still win), `--port 8080` becomes `--port 0`, and a URL with the port a
 *    server was written with (https://localhost:8443) gets the port it really listens on.
 *  - External hosts: https://calls.example.com is the server started by the same block;
 *    redis://10.0.0.5:6379 a redis-server started here; /etc/turnserver.conf a file in the copy.
 *  - switchboard.json, which the README sketches in a comment: its turn.example.com URLs point
 *    at a coturn started here (UDP and TCP; its TLS URL is left out: that coturn has no TLS).
 *  - A trailing `&`: the test keeps the process and stops it at the end. Bare `switchboard` finds
 *    node_modules/.bin on PATH (what a global install or npm scripts give).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireOrSkip, startCoturn, startRedis, stopAllProcesses, type CoturnHandle, type RedisHandle } from '@switchboard/test-utils';
import { isSynopsis, linkBin, makeWorkspace, runShell, shellBlocks, workspaceBins, type Run } from './readme-support.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const DEFAULT_PORT = 8443;

interface Server {
  run: Run;
  url: string;
}

let ws = '';
let env: NodeJS.ProcessEnv = {};
const servers = new Map<number, Server>(); // by the port the command was written with
const running: Run[] = [];
let coturn: CoturnHandle | null = null;
let redis: RedisHandle | null = null;

beforeAll(() => {
  if (!existsSync(join(root, 'packages/cli/dist/bin.js'))) throw new Error('The checkout is not built: run `npm run build` first.');
  ws = makeWorkspace(root);
  for (const bin of workspaceBins(root)) linkBin(ws, bin);
  env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SWITCHBOARD_') && k !== 'NODE_EXTRA_CA_CERTS'));
  Object.assign(env, { PATH: `${join(ws, 'node_modules', '.bin')}:${process.env['PATH'] ?? ''}`, SWITCHBOARD_PORT: '0', SWITCHBOARD_HOST: '127.0.0.1' });
});

afterAll(async () => {
  await Promise.all(running.map((run) => run.stop()));
  await coturn?.stop();
  await redis?.stop();
  await stopAllProcesses();
  if (ws) rmSync(ws, { recursive: true, force: true });
}, 60_000);

describe('the install links the bins (what `npm ci` needs)', () => {
  it('every workspace bin is a committed file, the lockfile names the same one, and it says "build first" before a build', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { bin?: Record<string, string> }> };
    const bins = workspaceBins(root);
    expect(bins.map((b) => b.name)).toContain('switchboard');
    for (const bin of bins) {
      // npm links a bin only when its target exists at install time: a built file is too late.
      expect(
        () => execFileSync('git', ['ls-files', '--error-unmatch', join(bin.dir, bin.target)], { cwd: root, stdio: 'ignore' }),
        `${bin.dir}/${bin.target} committed`,
      ).not.toThrow();
      expect(lock.packages[bin.dir]?.bin?.[bin.name], `package-lock.json's bin of ${bin.dir}`).toBe(bin.target);
    }
    const launcher = bins.find((b) => b.name === 'switchboard')!;
    const unbuilt = mkdtempSync(join(tmpdir(), 'sb-unbuilt-'));
    try {
      cpSync(join(root, launcher.dir, launcher.target), join(unbuilt, launcher.target));
      const out = (() => {
        try {
          execFileSync(process.execPath, [join(unbuilt, launcher.target), '--help'], { encoding: 'utf8', stdio: 'pipe' });
          return 'exit 0';
        } catch (err) {
          return String((err as { stderr?: string }).stderr);
        }
      })();
      expect(out).toBe('switchboard: the CLI is not built yet: run `npm run build` first.\n');
    } finally {
      rmSync(unbuilt, { recursive: true, force: true });
    }
  });
});

/** The port a server command was written with. */
const writtenPort = (command: string) => Number(/--port\s+(\d+)/.exec(command)?.[1] ?? DEFAULT_PORT);

function substitute(command: string, own: { port?: number } = {}): string {
  let out = command.replace(/--port\s+\d+/, '--port 0').replace('/etc/turnserver.conf', 'turnserver.conf');
  out = out.replace(/(https?):\/\/localhost:(\d+)/g, (text, scheme: string, port: string) => {
    const server = servers.get(Number(port));
    return server ? `${scheme}://localhost:${new URL(server.url).port}` : text;
  });
  out = out.replace('https://calls.example.com', () => servers.get(own.port ?? DEFAULT_PORT)?.url.replace(/\/$/, '') ?? 'https://calls.example.com');
  if (out.includes('redis://10.0.0.5:6379')) out = out.replace('redis://10.0.0.5:6379', redis!.url);
  return out;
}

/** GET /healthz; over https trusting the certificate the server wrote into the copy's ./.switchboard. */
async function probe(url: string): Promise<{ status: number; body: string }> {
  const target = new URL('/healthz', url);
  if (target.protocol !== 'https:') {
    const response = await fetch(target);
    return { status: response.status, body: await response.text() };
  }
  const ca = readFileSync(join(ws, '.switchboard/tls/cert.pem'));
  return new Promise((resolve, reject) => {
    const req = request(target, { ca }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function startServer(command: string): Promise<void> {
  const port = writtenPort(command);
  await servers.get(port)?.run.stop(); // one server per port, as on a real machine
  const run = runShell(substitute(command), ws, env);
  running.push(run);
  const [, url] = await run.waitFor(/Local:\s+(https?:\/\/\S+?)\/?\s/);
  const health = await probe(url!);
  expect(health.status, `GET ${url}/healthz after "${command}"`).toBe(200);
  expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
  servers.set(port, { run, url: url! });
}

/** Runs one command of a block as the README means it. */
async function runCommand(command: string): Promise<void> {
  for (const part of command.split(/\s+&&\s+/)) {
    if (part === 'npm ci' || part === 'npm run build') continue; // see the header
    if (part === 'npm test') {
      expect(rootManifest.scripts['test']).toBeTruthy();
      continue;
    }
    if (part === 'npm start') {
      const script = rootManifest.scripts['start']!;
      expect(script).toMatch(/^npm run build && /);
      await startServer(script.replace(/^npm run build && /, ''));
      continue;
    }
    if (isSynopsis(part)) {
      await checkSynopsis(part);
      continue;
    }
    const background = part.endsWith('&');
    const line = part.replace(/\s*&$/, '');
    if (/\bswitchboard serve\b/.test(line)) {
      await startServer(line);
    } else if (background || /examples\/node-bot\/bot\.mjs/.test(line)) {
      const run = runShell(substitute(line), ws, env);
      running.push(run);
      await run.waitFor(/"ready":true/, 30_000);
    } else {
      const run = runShell(substitute(line), ws, env);
      running.push(run);
      const code = await run.exited;
      expect(code, `"${line}" exit code; output:\n${run.output()}`).toBe(0);
      if (/switchboard doctor/.test(line)) expect(run.output()).toMatch(/\nOK: \d+ passed, 0 failed/);
      if (/turn-config .*> /.test(line)) expect(readFileSync(join(ws, 'turnserver.conf'), 'utf8')).toMatch(/use-auth-secret[\s\S]*static-auth-secret=/);
    }
  }
}

/** A usage line: the command's --help works and lists every flag the line shows. */
async function checkSynopsis(line: string): Promise<void> {
  const [, bin, sub] = /^(?:npx\s+)?(switchboard)\s+([a-z-]+)/.exec(line) ?? [];
  expect(bin, line).toBe('switchboard');
  const run = runShell(`switchboard ${sub} --help`, ws, env);
  expect(await run.exited).toBe(0);
  for (const flag of line.match(/--[a-z][a-z-]*/g) ?? []) expect(run.output(), `${flag} in switchboard ${sub} --help`).toContain(flag);
}

function needs(block: string[]): 'coturn' | 'redis' | null {
  const text = block.join('\n');
  if (text.includes('switchboard.json')) return 'coturn';
  if (text.includes('--redis')) return 'redis';
  return null;
}

async function prepare(block: string[]): Promise<void> {
  const need = needs(block);
  if (need === 'coturn' && !coturn) {
    coturn = await startCoturn({ verbose: false, relayIp: '127.0.0.2' });
    const ice = { turn: coturn.urls('127.0.0.1', ['udp', 'tcp']), turnSecrets: [coturn.secret] };
    writeFileSync(join(ws, 'switchboard.json'), JSON.stringify({ ice }, null, 2));
  }
  if (need === 'redis' && !redis) redis = await startRedis();
}

for (const [file, title] of [
  ['README.md', 'README.md'],
  ['examples/node-bot/README.md', 'examples/node-bot/README.md'],
] as const) {
  describe(`${title}: every sh command runs as written`, () => {
    const blocks = shellBlocks(readFileSync(join(root, file), 'utf8'));
    it('has commands', () => expect(blocks.flat().length).toBeGreaterThan(0));
    for (const block of blocks) {
      const need = needs(block);
      const missing = need ? requireOrSkip(need) : null;
      it.skipIf(missing !== null)(
        `${block.join(' ; ')}${missing ? ` [skipped: ${missing}]` : ''}`,
        async () => {
          await prepare(block);
          for (const command of block) await runCommand(command);
        },
        120_000,
      );
    }
  });
}
