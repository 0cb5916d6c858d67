// The habits, enforced: ESLint and Prettier pass on the whole repository, every test file
// and the demo app type-check, and the lint rules that carry the architecture (import boundaries, 400 lines)
// really fire on code that breaks them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function run(script: string): { status: number | null; output: string } {
  const result = spawnSync('npm', ['run', '--silent', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

/** The rules that `text` would break if it were the file at `path` (relative to the root). */
async function brokenRules(path: string, text: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(text, { filePath: join(ROOT, path) });
  return result!.messages.map((m) => m.ruleId ?? m.message);
}

describe('lint', () => {
  it('ESLint and Prettier pass on the repository (npm run lint)', () => {
    const { status, output } = run('lint');
    expect(status, output).toBe(0);
  }, 120_000);

  it('every test file and the demo app type-check (npm run typecheck:tests)', () => {
    const { status, output } = run('typecheck:tests');
    expect(status, output).toBe(0);
  }, 300_000);

  it('the import boundaries fire where they are crossed, and only there', async () => {
    expect(await brokenRules('packages/server/src/x.ts', "import '@switchboard/client';\n")).toContain('no-restricted-imports');
    expect(await brokenRules('packages/client/src/x.ts', "import '@switchboard/server';\n")).toContain('no-restricted-imports');
    expect(await brokenRules('packages/protocol/src/x.ts', "import '@switchboard/server';\n")).toContain('no-restricted-imports');
    expect(await brokenRules('packages/client/src/calls/x.ts', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n")).toContain(
      'no-restricted-imports',
    );
    expect(await brokenRules('packages/client/src/x.ts', "import WebSocket from 'ws';\nexport const W = WebSocket;\n")).toContain('no-restricted-imports');
    expect(await brokenRules('packages/cli/test/x.ts', "import '../../../e2e/calls-support/stack.js';\n")).toContain('no-restricted-imports');
    expect(await brokenRules('packages/server/src/x.ts', "import '@switchboard/test-utils';\n")).toContain('no-restricted-imports');
    // Allowed: the Node entry of the SDK uses Node modules; tests use test-utils; the server uses the protocol.
    expect(await brokenRules('packages/client/src/node/x.ts', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n")).toEqual([]);
    expect(await brokenRules('packages/server/test/x.ts', "import '@switchboard/test-utils';\n")).toEqual([]);
    expect(await brokenRules('packages/server/src/x.ts', "import '@switchboard/protocol';\n")).toEqual([]);
  });

  it('a file over 400 lines is refused', async () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `export const v${i} = ${i};`).join('\n') + '\n';
    expect(await brokenRules('packages/server/src/x.ts', lines(400))).toEqual([]);
    expect(await brokenRules('packages/server/src/x.ts', lines(401))).toContain('max-lines');
  });
});
