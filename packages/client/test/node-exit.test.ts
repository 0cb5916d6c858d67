/**
 * Process lifetime of the Node SDK: a Node peer in a child process (test/node-exit-fixture.mjs,
 * which uses the built dist) exits by itself after its call ended and its realtime connection
 * closed (node-datachannel's threads are released), and a peer whose process dies mid-call
 * ends the call on the other side.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { livePeerConnections } from '../src/node/index.js';
import { NodePeer, nextMessage, openChannel, RtcLog } from './node-harness.js';
import { startServer, until, type TestServer } from './server.js';

const FIXTURE = fileURLToPath(new URL('./node-exit-fixture.mjs', import.meta.url));
let server: TestServer;
const children: ChildProcess[] = [];
const peers: NodePeer[] = [];

beforeAll(async () => {
  // A dead process looks like a blip until the resume window passes: then the server hangs up its calls.
  server = await startServer({ resume: { windowMs: 2_000 } });
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await until(() => livePeerConnections() === 0, 5_000, 'peer connections closed');
});
afterAll(() => server.close());

interface Child {
  process: ChildProcess;
  next(key: string, timeoutMs?: number): Promise<unknown>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

function startChild(token: string, group: string): Child {
  const child = spawn(process.execPath, [FIXTURE, server.url, token, group], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
    waiters.splice(0).forEach((wake) => wake());
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const next = async (key: string, timeoutMs = 10_000): Promise<unknown> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = lines.find((l) => key in l);
      if (line) return line[key];
      if (Date.now() > deadline) throw new Error(`child never printed ${key}; got ${JSON.stringify(lines)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  };
  return { process: child, next, exited };
}

it('a Node peer process exits by itself after hang-up and closeRealtime (no hanging handles)', async () => {
  const child = startChild(await server.token('exit-child'), 'exit-1');
  const cid = (await child.next('cid')) as string;
  const me = new NodePeer({ url: server.url, token: await server.token('exit-parent') });
  peers.push(me);
  await me.connect('exit-1');
  const log = new RtcLog();
  const connector = await me.sb.connectRTC({ cid }, log.cb);
  const resolved = await connector.connection;
  const channel = await openChannel(resolved, log);
  channel.send('ping');
  expect(await nextMessage(log, 'default')).toBe('echo:ping');
  resolved.hangup();
  expect(await child.next('closed')).toBe('hangup');
  expect(await child.next('realtimeClosed')).toBe(true);
  const closedAt = Date.now();
  const exit = await Promise.race([child.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 5_000))]);
  expect(exit, 'the child process should exit within 5 s of closeRealtime').not.toBeNull();
  expect(exit!.code).toBe(0);
  console.info(`[node-exit] child exited ${exit!.at - closedAt} ms after closeRealtime`);
});

it('a peer whose process dies mid-call: the other side gets rtc:closed (peer_gone)', async () => {
  const child = startChild(await server.token('doomed-child'), 'exit-2');
  const cid = (await child.next('cid')) as string;
  const me = new NodePeer({ url: server.url, token: await server.token('survivor') });
  peers.push(me);
  await me.connect('exit-2');
  const log = new RtcLog();
  const connector = await me.sb.connectRTC({ cid }, log.cb);
  const resolved = await connector.connection;
  await openChannel(resolved, log);
  const from = me.rt.mark();
  child.process.kill('SIGKILL');
  const closed = await me.rt.waitFor((e) => e.type === 'rtc:closed', from, 15_000, 'rtc:closed after the peer process died');
  expect(((closed as { message: unknown }).message as { reason: string }).reason).toBe('peer_gone');
  await until(() => livePeerConnections() === 0, 5_000, 'peer connection closed');
});
