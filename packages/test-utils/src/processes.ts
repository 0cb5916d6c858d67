/**
 * Child processes for tests: spawn (optionally inside a network namespace), wait until ready
 * (a line on stdout/stderr, or a listening port), stop on teardown (SIGTERM, then SIGKILL),
 * and kill whatever is left when the test process exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { onExit } from './cleanup.js';
import type { Netns } from './netns.js';

export interface StartOptions {
  /** A label for messages (default: the command's base name). */
  name?: string;
  /** Run inside this namespace (`ip netns exec`). */
  netns?: Netns | string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolve once a line of stdout or stderr matches. */
  waitForLine?: RegExp | string;
  /** Resolve once something listens on this TCP port (checked inside the namespace when `netns` is set). */
  waitForPort?: number;
  /** With waitForPort: the protocol to look for (default tcp). */
  portProtocol?: 'tcp' | 'udp';
  /** How long to wait for readiness (default 15 s). */
  timeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL in stop() (default 5 s). */
  stopTimeoutMs?: number;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr, interleaved by line). */
  output(): string;
  /** Resolves with the first line (already printed or future) that matches. */
  waitForLine(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Settles when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True until the process exited. */
  running(): boolean;
  /** SIGTERM, then SIGKILL after the grace period; resolves once it exited. Idempotent. */
  stop(): Promise<void>;
}

const running = new Set<ManagedProcess>();
onExit(() => {
  for (const proc of running) {
    try {
      proc.child.kill('SIGKILL');
    } catch {
      // gone
    }
  }
});

const nsName = (netns: Netns | string | undefined): string | undefined => (typeof netns === 'string' ? netns : netns?.name);
const matches = (line: string, pattern: RegExp | string): boolean => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line));

/** Starts `command args`; resolves when ready (see StartOptions), rejects with its output when it exits or times out first. */
export async function startProcess(command: string, args: readonly string[] = [], options: StartOptions = {}): Promise<ManagedProcess> {
  const ns = nsName(options.netns);
  const [file, argv] = ns ? ['ip', ['netns', 'exec', ns, command, ...args]] : [command, [...args]];
  const name = options.name ?? command.split('/').pop() ?? command;
  const child = spawn(file, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp | string; resolve: (line: string) => void }>();
  let alive = true;

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      alive = false;
      running.delete(proc);
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      lines.push(`[spawn error] ${err.message}`);
      alive = false;
      running.delete(proc);
      resolve({ code: null, signal: null });
    });
  });

  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length > 5000) lines.splice(0, lines.length - 5000);
        for (const waiter of [...waiters]) {
          if (matches(line, waiter.pattern)) {
            waiters.delete(waiter);
            waiter.resolve(line);
          }
        }
      }
    });
  }

  let stopping: Promise<void> | null = null;
  const proc: ManagedProcess = {
    name,
    pid: child.pid ?? -1,
    child,
    exited,
    output: () => lines.join('\n'),
    running: () => alive,
    waitForLine(pattern, timeoutMs = 15_000) {
      const seen = lines.find((line) => matches(line, pattern));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const waiter = {
          pattern,
          resolve: (line: string) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${name}: no line matching ${String(pattern)} within ${timeoutMs} ms. Output:\n${tail(lines)}`));
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then(({ code, signal }) => {
          if (!waiters.delete(waiter)) return;
          clearTimeout(timer);
          reject(new Error(`${name} exited (${code ?? signal}) before printing ${String(pattern)}. Output:\n${tail(lines)}`));
        });
      });
    },
    stop() {
      stopping ??= (async () => {
        if (!alive) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), options.stopTimeoutMs ?? 5_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
  running.add(proc);

  try {
    const timeoutMs = options.timeoutMs ?? 15_000;
    if (options.waitForLine !== undefined) await proc.waitForLine(options.waitForLine, timeoutMs);
    if (options.waitForPort !== undefined) {
      await waitForPort(options.waitForPort, { netns: ns, protocol: options.portProtocol, timeoutMs, whileAlive: proc });
    }
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}

function tail(lines: string[], count = 40): string {
  return lines.slice(-count).join('\n');
}

/** Stops every process started by this module that is still running. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** A TCP port that was free on 127.0.0.1 in this (host) namespace a moment ago. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function listening(port: number, protocol: 'tcp' | 'udp', ns: string | undefined): boolean {
  const ssArgs = [protocol === 'tcp' ? '-Hltn' : '-Hlun', `sport = :${port}`];
  const result = ns ? spawnSync('ip', ['netns', 'exec', ns, 'ss', ...ssArgs], { encoding: 'utf8' }) : spawnSync('ss', ssArgs, { encoding: 'utf8' });
  return result.status === 0 && result.stdout.trim().length > 0;
}

function tcpAccepts(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Waits until something listens on `port` (TCP connect in the host namespace; `ss` inside a
 * namespace, or for UDP). Polls every 25 ms; rejects after `timeoutMs` or when `whileAlive` exits.
 */
export async function waitForPort(
  port: number,
  options: { host?: string; netns?: Netns | string; protocol?: 'tcp' | 'udp'; timeoutMs?: number; whileAlive?: ManagedProcess } = {},
): Promise<void> {
  const ns = nsName(options.netns);
  const protocol = options.protocol ?? 'tcp';
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const ready = !ns && protocol === 'tcp' ? await tcpAccepts(port, options.host ?? '127.0.0.1') : listening(port, protocol, ns);
    if (ready) return;
    if (options.whileAlive && !options.whileAlive.running()) {
      throw new Error(`${options.whileAlive.name} exited before listening on ${protocol}/${port}. Output:\n${tail(options.whileAlive.output().split('\n'))}`);
    }
    if (Date.now() > deadline) throw new Error(`nothing listens on ${protocol}/${port}${ns ? ` in ${ns}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
