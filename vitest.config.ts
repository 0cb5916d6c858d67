import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'e2e/**/*.test.ts', 'scripts/test/**/*.test.ts'],
    // Two cores: browser and network-namespace suites must not fight each other for them.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A worker whose event loop hangs for good is killed with its stacks printed, not waited for.
    setupFiles: ['packages/test-utils/src/vitest-setup.ts'],
  },
});
