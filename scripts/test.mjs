// Runs every suite with vitest and ends with the one line CI reads: "N passed, N failed".
// Under CI=true a skipped test counts as failed: browser, TURN and Redis suites must run there.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';

const report = 'test-results/vitest.json';
mkdirSync('test-results', { recursive: true });
if (existsSync(report)) rmSync(report);

const run = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
});

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests ?? 0;
  failed = (json.numFailedTests ?? 0) + (json.numRuntimeErrorTestSuites ?? 0);
  skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  for (const file of json.testResults ?? []) {
    // A file that failed without a failed test (failed to load, or a beforeAll/afterAll hook
    // threw) must still count.
    const results = file.assertionResults ?? [];
    if (file.status === 'failed' && !results.some((r) => r.status === 'failed')) {
      console.error(`failed outside any test: ${file.name}`);
      failed += 1;
    }
  }
} else {
  failed += 1;
}
if (run.status !== 0 && failed === 0) {
  // e.g. unhandled errors or a crash after the report: vitest failed, so the line must say so.
  console.error(`vitest exited with ${run.status ?? run.signal} although no test failed; counting one failure.`);
  failed += 1;
}
if (process.env.CI === 'true' && skipped > 0) {
  console.error(`${skipped} test(s) skipped under CI=true; counting them as failed.`);
  failed += skipped;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || run.status !== 0 ? 1 : 0);
