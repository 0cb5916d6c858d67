// Runs scripts/smoke-tarballs.mjs (pack every package, install the tarballs into empty projects
// outside the workspace, serve from the installed CLI, a Node data call, a browser bundle) as part
// of `npm test`. The script prints its steps with timings; its exit status decides.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../smoke-tarballs.mjs', import.meta.url));

let child: ChildProcess | null = null;
afterAll(() => {
  // A timed-out run: the script stops its server and removes its temp dir on SIGTERM.
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
});

it('the packed tarballs install and work outside the workspace', async () => {
  const proc = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  let output = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const code = await new Promise<number | string | null>((resolve) => proc.once('exit', (c, signal) => resolve(c ?? signal)));
  console.info(output.trimEnd());
  expect(code, output).toBe(0);
}, 240_000);
