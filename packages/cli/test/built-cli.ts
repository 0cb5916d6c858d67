/**
 * The CLI as users run it: `dist/bin.js`, rebuilt (tsc -b) when a package's sources are newer
 * than its last build, so process tests never run stale code.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const bin = join(root, 'packages/cli/dist/bin.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** For `beforeAll(ensureCliBuilt, 120_000)`. */
export function ensureCliBuilt(): void {
  const stale = ['protocol', 'server', 'cli'].some((p) => {
    const dir = join(root, 'packages', p);
    try {
      return statSync(join(dir, 'tsconfig.tsbuildinfo')).mtimeMs < newestMtime(join(dir, 'src'));
    } catch {
      return true; // never built
    }
  });
  if (stale) execFileSync(join(root, 'node_modules/.bin/tsc'), ['-b', 'packages/cli'], { cwd: root, stdio: 'inherit' });
}
