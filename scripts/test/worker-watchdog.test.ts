/**
 * The test workers' watchdog (packages/test-utils/src/worker-watchdog.ts): a process whose
 * event loop stops is killed with its native stacks printed; a busy but healthy one is left
 * alone and still exits by itself.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const WATCHDOG = join(dirname(fileURLToPath(import.meta.url)), '../../packages/test-utils/dist/worker-watchdog.js');

function run(body: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import { startWorkerWatchdog } from ${JSON.stringify(WATCHDOG)};\n${body}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr, ms: performance.now() - started })));
}

describe('test worker watchdog', () => {
  it('kills a process whose event loop has not run for the limit, naming it, with its thread stacks', async () => {
    const result = await run(`startWorkerWatchdog(1500, 'stuck.test.ts'); setTimeout(() => { for (;;) {} }, 100);`);
    expect(result.signal).toBe('SIGKILL');
    expect(result.stderr).toMatch(/\[watchdog\] stuck\.test\.ts: the event loop of test worker \d+ has not run for \d+ s; killing it\./);
    expect(result.stderr).toMatch(/Thread \d+ .*\n#0 /);
    expect(result.ms).toBeLessThan(20_000);
  });

  it('leaves a healthy process alone (busy stretches shorter than the limit), and it exits on its own', async () => {
    const result = await run(
      `startWorkerWatchdog(1500, 'healthy.test.ts');
       for (let i = 0; i < 5; i++) {
         const end = Date.now() + 700;
         while (Date.now() < end);
         await new Promise((resolve) => setTimeout(resolve, 20));
       }`,
    );
    expect({ code: result.code, signal: result.signal, stderr: result.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  });

  it('names the file that runs now: a second start in the same process (the next file) changes the label', async () => {
    const result = await run(
      `startWorkerWatchdog(1500, 'first.test.ts'); startWorkerWatchdog(1500, 'second.test.ts'); setTimeout(() => { for (;;) {} }, 100);`,
    );
    expect(result.signal).toBe('SIGKILL');
    expect(result.stderr).toMatch(/\[watchdog\] second\.test\.ts: /);
  });
});
