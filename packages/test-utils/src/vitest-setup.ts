/**
 * Runs in every vitest worker before its test file (vitest.config.ts, setupFiles). No test here
 * blocks its event loop for long (the longest is a synchronous lint run of well under a
 * minute), so three minutes without a turn of it is a hang.
 */
import { expect } from 'vitest';
import { startWorkerWatchdog } from './worker-watchdog.js';

startWorkerWatchdog(180_000, expect.getState().testPath ?? 'a test file');
