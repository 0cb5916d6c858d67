/**
 * `switchboard serve` and its own STUN responder, as users run it (child processes): the
 * banner names the UDP port and it answers a Binding; a taken port stops the start with one
 * plain line naming stun.port and where the value came from.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_STARTUP } from '../src/errors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = join(root, 'packages/cli/dist/bin.js');

beforeAll(() => {
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-b', 'packages/cli'], { cwd: root, stdio: 'inherit' });
}, 120_000);

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function udpSocket(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    socket.close();
  });
  return socket;
}

function serve(env: Record<string, string>) {
  const cwd = mkdtempSync(join(tmpdir(), 'switchboard-stun-'));
  const child = spawn(process.execPath, [bin, 'serve', '--http', '--port', '0', '--host', '127.0.0.1', '--log-level', 'silent'], {
    cwd,
    env: { ...process.env, SWITCHBOARD_CONFIG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(cwd, { recursive: true, force: true });
  });
  const banner = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => stdout.includes('Press Ctrl+C') && resolve(stdout));
    void exited.then(() => reject(new Error(`serve exited: ${stderr}`)));
  });
  banner.catch(() => undefined); // a start-up failure test awaits `exited` instead
  return { banner, exited, stderr: () => stderr, stdout: () => stdout };
}

describe('switchboard serve: the built-in STUN responder', () => {
  it('names its UDP port in the banner and answers a Binding request there', async () => {
    const probe = await udpSocket();
    const free = await udpSocket();
    const port = free.address().port;
    free.close();
    cleanups.pop();
    const server = serve({ SWITCHBOARD_STUN_PORT: String(port) });
    expect(await server.banner).toContain(`  STUN:      UDP ${port}, handed to clients`);
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0);
    request.writeUInt32BE(0x2112a442, 4);
    randomBytes(12).copy(request, 8);
    const answer = new Promise<Buffer>((resolve) => probe.once('message', resolve));
    probe.send(request, port, '127.0.0.1');
    const msg = await answer;
    expect(msg.readUInt16BE(0)).toBe(0x0101);
    expect(msg.subarray(8, 20)).toEqual(request.subarray(8, 20));
  });

  it('a UDP port already taken: exit code 4 and one line naming stun.port and SWITCHBOARD_STUN_PORT', async () => {
    const busy = await udpSocket();
    const port = busy.address().port;
    const server = serve({ SWITCHBOARD_STUN_PORT: String(port) });
    expect(await server.exited).toBe(EXIT_STARTUP);
    expect(server.stderr()).toBe(
      `switchboard serve: stun.port: UDP ${port} is already in use on 127.0.0.1 (coturn on this host? give stun.port another port, or set stun.enabled to false and let coturn answer STUN) (from SWITCHBOARD_STUN_PORT)\n`,
    );
    expect(server.stdout()).not.toContain('Switchboard is running');
  });
});
