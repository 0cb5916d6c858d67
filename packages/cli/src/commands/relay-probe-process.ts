/**
 * Relay probes with a real WebRTC stack, each in a child process with a hard deadline.
 * libdatachannel 0.24 (node-datachannel 0.33) can deadlock natively, e.g. when DTLS starts over
 * TURN (docs/adr/0007-renewal.md): in the doctor's own process that would block its event loop
 * for good, with no timer left to fire. A child that does not answer in time is killed and the
 * probe runs once more; only a second hang is reported, as such.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { IceUrl } from './ice-urls.js';
import type { Credentials, GatherResult, LoopResult } from './relay-probe.js';

interface ProbeTarget {
  url: IceUrl;
  creds: Credentials;
  timeoutMs: number;
  bindAddress?: string | undefined;
}

export type ProbeRequest = (ProbeTarget & { kind: 'gather' }) | (ProbeTarget & { kind: 'loop' });

/** What the child answers. */
export type ProbeAnswer = { kind: 'unavailable' } | { kind: 'gather'; result: GatherResult } | { kind: 'loop'; result: LoopResult };

/** The answer, or what became of a child that gave none. */
export type ProbeOutcome = ProbeAnswer | { kind: 'hung'; deadlineMs: number; attempts: number } | { kind: 'crashed'; detail: string };

/** Time for the child to start, load the native stack and close its peers, on top of the probe's own timeout. */
export const PROBE_OVERHEAD_MS = 5_000;

// Resolved from the package root so that it names the compiled file from dist/ and from src/ alike.
const CHILD_SCRIPT = fileURLToPath(new URL('../../dist/commands/relay-probe-child.js', import.meta.url));

export interface ProbeProcessOptions {
  /** The child's script (tests swap in one that hangs). */
  script?: string;
  deadlineMs?: number;
}

/** Runs `request` in a child; a child that hangs past the deadline is killed and the probe runs once more. */
export async function runRelayProbe(request: ProbeRequest, options: ProbeProcessOptions = {}): Promise<ProbeOutcome> {
  const deadlineMs = options.deadlineMs ?? request.timeoutMs + PROBE_OVERHEAD_MS;
  const script = options.script ?? CHILD_SCRIPT;
  const first = await probeOnce(script, request, deadlineMs);
  if (first !== 'hung') return first;
  const second = await probeOnce(script, request, deadlineMs);
  return second === 'hung' ? { kind: 'hung', deadlineMs, attempts: 2 } : second;
}

function probeOnce(script: string, request: ProbeRequest, deadlineMs: number): Promise<ProbeOutcome | 'hung'> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const settle = (outcome: ProbeOutcome | 'hung') => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(outcome);
    };
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      settle('hung');
    }, deadlineMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      // The answer is all that matters: a native crash while the child exits changes nothing.
      settle(parseAnswer(stdout.slice(0, newline)));
      child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2_000);
    });
    child.on('error', (err) => settle({ kind: 'crashed', detail: err.message }));
    // 'close', not 'exit': by then stdout has been read to its end.
    child.on('close', (code, signal) => {
      const last = stderr.trim().split('\n').at(-1);
      settle({ kind: 'crashed', detail: `the probe process exited (${signal ?? `code ${code}`}) without an answer${last ? `: ${last}` : ''}` });
    });
  });
}

function parseAnswer(line: string): ProbeOutcome {
  try {
    return JSON.parse(line) as ProbeAnswer;
  } catch {
    return { kind: 'crashed', detail: `the probe process answered something else than JSON: ${line.slice(0, 200)}` };
  }
}
