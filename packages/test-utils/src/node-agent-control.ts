// The driving side of agents/node-agent.mjs: spawn an agent (optionally through a wrapper such as
// `ip netns exec NAME`), send it commands, await replies and events. Used by the e2e suites and
// bench/transfer.mjs.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** The agent script (plain JS, run by Node as is; it imports the built `@switchboard/client/node`). */
export const AGENT_PATH = fileURLToPath(new URL('../agents/node-agent.mjs', import.meta.url));

/** One line the agent printed: an event (`{ event, ... }`) or a reply (`{ id, ok, ... }`). */
export type AgentMessage = { [key: string]: unknown };
/** An event line: `{ event: 'accepted' | 'message' | 'closed' | ..., ... }`. */
export type AgentEvent = AgentMessage & { event?: unknown };

export interface NodeAgentOptions {
  url: string;
  name?: string;
  token?: string;
  group?: string;
  bind?: string;
  /** Extra Switchboard options for the agent (e.g. ICE restart timings). */
  options?: Record<string, unknown>;
  /** Turns `[file, args]` into what to spawn, e.g. `ip netns exec NAME file args`. */
  wrap?: (file: string, args: string[]) => [string, string[]];
  log?: boolean;
}

type AgentChild = ChildProcessByStdio<Writable, Readable, null>;
interface Pending {
  resolve: (reply: AgentMessage) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}
interface Waiter {
  predicate: (event: AgentEvent) => boolean;
  resolve: (event: AgentEvent) => void;
}

export class NodeAgent {
  static async start(options: NodeAgentOptions): Promise<NodeAgent> {
    const args = [AGENT_PATH, '--url', options.url];
    for (const key of ['name', 'token', 'group', 'bind'] as const) {
      const value = options[key];
      if (value) args.push(`--${key}`, value);
    }
    if (options.options) args.push('--options', JSON.stringify(options.options));
    const [file, argv] = options.wrap ? options.wrap(process.execPath, args) : [process.execPath, args];
    const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
    const agent = new NodeAgent(child, options.log ?? false);
    const ready = await agent.waitEvent((e) => e.event === 'ready', 15_000);
    agent.cid = typeof ready['cid'] === 'string' ? ready['cid'] : '';
    agent.user_id = typeof ready['user_id'] === 'string' ? ready['user_id'] : '';
    return agent;
  }

  readonly child: AgentChild;
  cid = '';
  user_id = '';
  readonly events: AgentEvent[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly pending = new Map<number, Pending>();
  private readonly waiters = new Set<Waiter>();
  private nextId = 1;

  constructor(child: AgentChild, log: boolean) {
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    createInterface({ input: child.stdout }).on('line', (line) => {
      let message: AgentMessage;
      try {
        message = JSON.parse(line) as AgentMessage;
      } catch {
        return;
      }
      if (log) console.log('[agent]', line.slice(0, 300));
      const pending = typeof message['id'] === 'number' ? this.pending.get(message['id']) : undefined;
      if (pending) {
        clearTimeout(pending.timer);
        this.pending.delete(message['id'] as number);
        if (message['ok']) pending.resolve(message);
        else pending.reject(Object.assign(new Error(String(message['error'])), { code: message['code'] }));
        return;
      }
      this.events.push(message);
      for (const waiter of [...this.waiters]) {
        if (waiter.predicate(message)) {
          this.waiters.delete(waiter);
          waiter.resolve(message);
        }
      }
    });
  }

  /** Sends `{ op, ...payload }`; resolves with the reply, rejects with its error. */
  request<T extends object = AgentMessage>(op: string, payload: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T & AgentMessage> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`agent: no reply to ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      // The reply's shape is the agent's contract for `op`; the caller names it with T.
      this.pending.set(id, { resolve: (reply) => resolve(reply as T & AgentMessage), reject, timer });
      this.child.stdin.write(`${JSON.stringify({ id, op, ...payload })}\n`);
    });
  }

  /** The first event (already seen, or future) matching `predicate`. */
  waitEvent(predicate: (event: AgentEvent) => boolean, timeoutMs = 20_000, from = 0): Promise<AgentEvent> {
    const seen = this.events.slice(from).find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`agent: timed out waiting for an event; got ${JSON.stringify(this.events.slice(from).slice(-10))}`));
      }, timeoutMs);
      this.waiters.add(waiter);
      void this.exited.then(() => {
        if (this.waiters.delete(waiter)) {
          clearTimeout(timer);
          reject(new Error(`agent exited while waiting; events ${JSON.stringify(this.events.slice(-10))}`));
        }
      });
    });
  }

  mark(): number {
    return this.events.length;
  }

  /** closeRealtime, end stdin; resolves with how the process ended (SIGKILL after `graceMs`). */
  async stop(graceMs = 5_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await this.request('close', {}, graceMs).catch(() => undefined);
      this.child.stdin.end();
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}
