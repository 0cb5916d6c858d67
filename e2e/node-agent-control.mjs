// The driving side of e2e/node-agent.mjs: spawn an agent (optionally through a wrapper such as
// `ip netns exec NAME`), send it commands, await replies and events. Plain JS so that both the
// vitest suites and bench/transfer.mjs can use it.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const AGENT_PATH = fileURLToPath(new URL('./node-agent.mjs', import.meta.url));

export class NodeAgent {
  /**
   * @param {{ url: string, name?: string, token?: string, group?: string, bind?: string,
   *           options?: Record<string, unknown>, wrap?: (file: string, args: string[]) => [string, string[]], log?: boolean }} options
   *   `options`: extra Switchboard options for the agent (e.g. ICE restart timings).
   */
  static async start(options) {
    const args = [AGENT_PATH, '--url', options.url];
    for (const key of ['name', 'token', 'group', 'bind']) if (options[key]) args.push(`--${key}`, options[key]);
    if (options.options) args.push('--options', JSON.stringify(options.options));
    const [file, argv] = options.wrap ? options.wrap(process.execPath, args) : [process.execPath, args];
    const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
    const agent = new NodeAgent(child, options.log ?? false);
    const ready = await agent.waitEvent((e) => e.event === 'ready', 15_000);
    agent.cid = ready.cid;
    agent.user_id = ready.user_id;
    return agent;
  }

  /** @param {import('node:child_process').ChildProcess} child */
  constructor(child, log) {
    this.child = child;
    this.cid = '';
    this.user_id = '';
    /** @type {Record<string, unknown>[]} */
    this.events = [];
    this.pending = new Map();
    this.waiters = new Set();
    this.nextId = 1;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    createInterface({ input: child.stdout }).on('line', (line) => {
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        return;
      }
      if (log) console.log('[agent]', line.slice(0, 300));
      if (message.id !== undefined && this.pending.has(message.id)) {
        const { resolve, reject, timer } = this.pending.get(message.id);
        clearTimeout(timer);
        this.pending.delete(message.id);
        if (message.ok) resolve(message);
        else reject(Object.assign(new Error(message.error), { code: message.code }));
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
  request(op, payload = {}, timeoutMs = 60_000) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`agent: no reply to ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.stdin.write(`${JSON.stringify({ id, op, ...payload })}\n`);
    });
  }

  /** The first event (already seen, or future) matching `predicate`. */
  waitEvent(predicate, timeoutMs = 20_000, from = 0) {
    const seen = this.events.slice(from).find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
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
      this.exited.then(() => {
        if (this.waiters.delete(waiter)) {
          clearTimeout(timer);
          reject(new Error(`agent exited while waiting; events ${JSON.stringify(this.events.slice(-10))}`));
        }
      });
    });
  }

  mark() {
    return this.events.length;
  }

  /** closeRealtime, end stdin; resolves with how the process ended (SIGKILL after `graceMs`). */
  async stop(graceMs = 5_000) {
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
