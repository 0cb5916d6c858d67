/**
 * Prerequisites of the browser / network / service suites, and the "require or skip" rule:
 * locally a missing prerequisite skips the suite with a clear reason; under CI=true it fails
 * (throws while the test file loads, which scripts/test.mjs counts as a failed file).
 */
import { accessSync, constants } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describe } from 'vitest';

export const CHROMIUM_PATH = process.env['SWITCHBOARD_CHROMIUM'] ?? '/usr/bin/chromium';

export type Requirement = 'chromium' | 'netns' | 'redis' | 'coturn' | 'gdb';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string): boolean {
  return (process.env['PATH'] ?? '/usr/bin:/bin').split(':').some((dir) => dir !== '' && executable(`${dir}/${command}`));
}

const checks: Record<Requirement, () => string | null> = {
  chromium: () => (executable(CHROMIUM_PATH) ? null : `Chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium)`),
  netns: () => {
    if (process.platform !== 'linux') return 'network namespaces need Linux';
    if (process.getuid?.() !== 0) return 'network namespaces need root';
    if (!onPath('ip')) return 'the ip tool is missing (apt-get install -y iproute2)';
    try {
      execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    } catch {
      return '`ip netns list` failed';
    }
    return null;
  },
  redis: () => (onPath('redis-server') ? null : 'redis-server not found (apt-get install -y redis-server)'),
  coturn: () => (onPath('turnserver') ? null : 'coturn turnserver not found (apt-get install -y coturn)'),
  gdb: () => (onPath('gdb') ? null : 'gdb not found (apt-get install -y gdb)'),
};

/** Human-readable problems, one per missing requirement (empty when all are met). */
export function missingRequirements(...requirements: Requirement[]): string[] {
  return requirements.map((r) => checks[r]()).filter((p): p is string => p !== null);
}

export const isCI = (): boolean => process.env['CI'] === 'true';

/**
 * Returns null when every requirement is met; otherwise the reason to skip. Under CI=true a
 * missing requirement throws instead: those suites must run in CI.
 */
export function requireOrSkip(...requirements: Requirement[]): string | null {
  const problems = missingRequirements(...requirements);
  if (problems.length === 0) return null;
  const reason = problems.join('; ');
  if (isCI()) throw new Error(`Required under CI=true: ${reason}`);
  console.warn(`[e2e] skipping: ${reason}`);
  return reason;
}

/** `describe`, or `describe.skip` with the reason in the title when a requirement is missing (throws under CI). */
export function describeWith(requirements: Requirement[], title: string, body: () => void): void {
  const reason = requireOrSkip(...requirements);
  if (reason === null) describe(title, body);
  else describe.skip(`${title} [skipped: ${reason}]`, body);
}
