/**
 * Typed acks: types/handlers.test-d.ts pins, at the type level, that each handler resolves with
 * exactly its request type's ack result (the protocol's AckResultOf) and that a wrong result does
 * not compile. Type-checked here by tsc, as the client's surface tests are.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('handler result types', () => {
  it("each handler returns its request type's ack result (tsc)", async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const project = fileURLToPath(new URL('./types/tsconfig.json', import.meta.url));
    const output = await new Promise<string>((resolve) => {
      execFile(process.execPath, [tsc, '--noEmit', '-p', project], (error, stdout, stderr) => resolve(error ? `${stdout}${stderr}` || String(error) : ''));
    });
    expect(output).toBe('');
  }, 60_000);
});
