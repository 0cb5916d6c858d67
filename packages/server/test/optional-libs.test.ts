/**
 * ioredis, web-push and selfsigned are loaded when a server uses them, not with every server
 * (optional-libs.ts: 3.8 MB of a started server's V8 heap).
 * Checked in a child process built from dist, whose module cache holds only what that server loaded.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const LIBS = ['ioredis', 'web-push', 'selfsigned'];

// Prints, after each step, which of LIBS sit in the process's module cache.
const CHILD = `
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer } from '@switchboard/server';
const cache = createRequire(import.meta.url).cache;
const loaded = () => ${JSON.stringify(LIBS)}.filter((lib) => Object.keys(cache).some((file) => file.includes('/node_modules/' + lib + '/')));
const steps = {};
const dirs = [];
async function serve(tls) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sb-optional-libs-'));
  dirs.push(dataDir);
  const server = createServer({ dataDir, tls: { mode: tls }, logLevel: 'silent', auth: { secrets: ['${'s'.repeat(40)}'] } });
  await server.listen(0, '127.0.0.1');
  await server.close();
}
await serve('off');
steps.plain = loaded();
await serve('self-signed');
steps.selfSigned = loaded();
for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(steps));
`;

function runChild(): Promise<{ plain: string[]; selfSigned: string[] }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', CHILD], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { plain: string[]; selfSigned: string[] });
    });
  });
}

describe('optional libraries', () => {
  it('a server without Redis, push or a generated certificate loads none of them; a self-signed one loads selfsigned only', async () => {
    const steps = await runChild();
    expect(steps.plain).toEqual([]);
    expect(steps.selfSigned).toEqual(['selfsigned']);
  });
});
