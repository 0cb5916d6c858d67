/**
 * Upstream bugs the e2e suites can meet, each identified precisely, so that nothing else is
 * excused.
 *
 * libdatachannel 0.24 (node-datachannel 0.33.4, the newest on npm) sometimes deadlocks when a
 * DTLS ClientHello arrives over TURN while ICE turns connected: about 3 % of Node ↔ Node relay
 * setups here. libdatachannel PR #1630 fixes it, but no node-datachannel release includes it yet.
 * The thread stacks are unmistakable: the juice poll thread waits in
 * DtlsTransport::handleTimeout for the SSL mutex, which a worker holds while it waits in juice's
 * agent_send for the lock the poll thread holds. See docs/adr/0007-renewal.md.
 */
import { execFileSync } from 'node:child_process';

export class KnownUpstreamDeadlock extends Error {
  override readonly name = 'KnownUpstreamDeadlock';
}

/** True when the process's native threads show libdatachannel's DTLS/TURN deadlock (read with gdb). */
export function libdatachannelDeadlocked(pid: number | undefined): boolean {
  if (!pid) return false;
  let stacks: string;
  try {
    stacks = execFileSync('gdb', ['-p', String(pid), '-batch', '-ex', 'thread apply all bt 12'], {
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return false;
  }
  return showsLibdatachannelDeadlock(stacks);
}

/** The deadlock's two sides in gdb's `thread apply all bt`: DTLS start waiting, and a send waiting in juice. */
export function showsLibdatachannelDeadlock(stacks: string): boolean {
  return /DtlsTransport::handleTimeout/.test(stacks) && /\b(agent_send|juice_send)\b/.test(stacks);
}

/** `error`, or a KnownUpstreamDeadlock wrapping it when one of `pids` shows the deadlock. */
export function explainFailure(error: unknown, pids: (number | undefined)[]): unknown {
  const stuck = pids.filter((pid) => libdatachannelDeadlocked(pid));
  if (stuck.length === 0) return error;
  return new KnownUpstreamDeadlock(`libdatachannel DTLS/TURN deadlock (upstream PR #1630) in process ${stuck.join(', ')}, after: ${String(error)}`);
}

/** Runs `scenario` once more only when it failed on that deadlock (logged); any other failure stands. */
export async function retryOnceOnLibdatachannelDeadlock(name: string, scenario: () => Promise<void>): Promise<void> {
  try {
    await scenario();
  } catch (error) {
    if (!(error instanceof KnownUpstreamDeadlock)) throw error;
    console.info(`[known-bug] ${name}: ${error.message}; running the scenario once more`);
    await scenario();
  }
}
