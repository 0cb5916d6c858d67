/**
 * Minimal network-namespace helpers for the calls suites (the shared e2e/support
 * helpers replace these once they exist). Chromium inside a namespace that holds only
 * `lo` gathers 127.0.0.1 host candidates (with --allow-loopback-in-peer-connection).
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let counter = 0;

export interface Netns {
  name: string;
  /** An executable that runs Chromium inside the namespace (for playwright's executablePath). */
  chromium: string;
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  run(command: string, args: string[]): string;
  destroy(): void;
}

export function canUseNetns(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return 'the ip tool is missing';
  }
  return null;
}

export function createNetns(prefix = 'sbc'): Netns {
  const name = `${prefix}${process.pid}x${counter++}`;
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const chromium = join(dir, 'chromium');
  writeFileSync(chromium, `#!/bin/sh\nexec ip netns exec ${name} /usr/bin/chromium "$@"\n`);
  chmodSync(chromium, 0o755);
  return {
    name,
    chromium,
    spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', name, command, ...args], options),
    run: (command, args) => execFileSync('ip', ['netns', 'exec', name, command, ...args], { encoding: 'utf8' }),
    destroy: () => {
      try {
        execFileSync('ip', ['netns', 'del', name]);
      } catch {
        /* already gone */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Drops every UDP packet on the namespace's `lo` (TCP, i.e. signaling, keeps working):
 * an htb class at 8 bit/s with a one-packet queue. No iptables/netem on these machines.
 */
export function blockUdp(ns: Netns, device = 'lo'): void {
  ns.run('tc', ['qdisc', 'add', 'dev', device, 'root', 'handle', '1:', 'htb', 'default', '20']);
  ns.run('tc', ['class', 'add', 'dev', device, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '8bit', 'ceil', '8bit']);
  ns.run('tc', ['class', 'add', 'dev', device, 'parent', '1:', 'classid', '1:20', 'htb', 'rate', '10gbit']);
  ns.run('tc', ['qdisc', 'add', 'dev', device, 'parent', '1:10', 'handle', '10:', 'pfifo', 'limit', '1']);
  ns.run('tc', ['filter', 'add', 'dev', device, 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', 'protocol', '17', '0xff', 'flowid', '1:10']);
}

export function unblockUdp(ns: Netns, device = 'lo'): void {
  ns.run('tc', ['qdisc', 'del', 'dev', device, 'root']);
}
