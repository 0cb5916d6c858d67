/**
 * Test harness: a real server on port 0 and `ws` clients that collect frames
 * and await specific ones with a timeout (no fixed sleeps).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '@switchboard/protocol';
import { afterEach } from 'vitest';
import { WebSocket } from 'ws';
import {
  createServer,
  mergeConfig,
  signToken,
  type ListenAddress,
  type ServerRuntime,
  type SwitchboardConfigInput,
  type SwitchboardServer,
} from '../src/index.js';

export const SECRET = 'test-secret-0123456789abcdef';
export const LOG_LEVEL = (process.env['SWITCHBOARD_TEST_LOG_LEVEL'] ?? 'silent') as 'silent';

export type Frame = Record<string, any> & { type: string };
type Predicate = (frame: Frame) => boolean;

const cleanups: (() => Promise<void> | void)[] = [];

/** Registers `afterEach` cleanup of every server, client and temp dir a test created. */
export function useCleanup(): void {
  afterEach(async () => {
    const list = cleanups.splice(0).reverse();
    for (const fn of list) await fn();
  });
}

export function tempDir(): string {
  const dir = mkdtempSync(pathJoin(tmpdir(), 'switchboard-test-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestServer {
  /** The server (in cluster mode: the first node). */
  server: SwitchboardServer;
  /** Every node (one unless cluster mode is on). */
  nodes: { server: SwitchboardServer; address: ListenAddress; connect: TestServer['connect'] }[];
  address: ListenAddress;
  url: string;
  wsUrl: string;
  token(user_id: string, options?: { name?: string; ttlSeconds?: number }): Promise<string>;
  /** Connects as `user_id` and waits for the welcome. */
  connect(user_id: string, options?: { name?: string; ttlSeconds?: number } & ClientOptions): Promise<TestClient>;
}

/**
 * Cluster mode: every startServer() starts `nodes` servers sharing one Redis (a fresh key
 * prefix each time) and `connect()` goes round-robin over them, so consecutive clients sit
 * on different nodes. The realtime suites re-run this way in test/cluster/cross-node.test.ts.
 */
let clusterMode: { redisUrl: string; nodes: number; cluster?: SwitchboardConfigInput['cluster'] } | null = null;
let clusterCount = 0;

export function setClusterMode(mode: typeof clusterMode): void {
  clusterMode = mode;
}

export async function startServer(overrides: SwitchboardConfigInput = {}, runtime?: ServerRuntime): Promise<TestServer> {
  const base: SwitchboardConfigInput = {
    host: '127.0.0.1',
    tls: { mode: 'off' },
    auth: { secrets: [SECRET] },
    logLevel: LOG_LEVEL,
    dataDir: tempDir(),
    // The server's own STUN is off here (ICE lists stay as the tests set them); test/stun.test.ts turns it on.
    stun: { enabled: false },
  };
  // Runtime hooks that observe one process (a log stream, a clock) keep a test on one node; a push agent is shared.
  const sharedRuntime = clusterMode !== null && Object.keys(runtime ?? {}).every((key) => key === 'pushAgent');
  const count = clusterMode && sharedRuntime ? clusterMode.nodes : 1;
  const prefix = `t${process.pid}-${++clusterCount}:`;
  const nodes: TestServer['nodes'] = [];
  for (let i = 0; i < count; i++) {
    const clustered: SwitchboardConfigInput =
      clusterMode && sharedRuntime ? { redis: clusterMode.redisUrl, nodeId: `${prefix}n${i + 1}`, cluster: { ...clusterMode.cluster, prefix } } : {};
    const server = createServer(mergeConfig(mergeConfig(base, clustered), overrides) as SwitchboardConfigInput, runtime);
    const address = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());
    nodes.push({ server, address, connect: (user_id, options = {}) => connectTo(address, user_id, options) });
  }
  const { server, address } = nodes[0]!;
  const secrets = server.config.auth.secrets;
  const token = (user_id: string, options: { name?: string; ttlSeconds?: number } = {}) => signToken(secrets, { user_id, ...options });
  async function connectTo(at: ListenAddress, user_id: string, options: { name?: string; ttlSeconds?: number } & ClientOptions) {
    const client = await TestClient.open(at.realtimeUrl, { token: await token(user_id, options), ...options });
    await client.welcome;
    return client;
  }
  let next = 0;
  return {
    server,
    nodes,
    address,
    url: address.url,
    wsUrl: address.realtimeUrl,
    token,
    connect: (user_id, options = {}) => nodes[next++ % nodes.length]!.connect(user_id, options),
  };
}

export interface ClientOptions {
  token?: string;
  /** Subprotocols to offer; default `switchboard.v1` + `bearer.<token>`. */
  protocols?: string[];
  headers?: Record<string, string>;
  query?: string;
  autoPong?: boolean;
  /** First request id (a resumed connection continues the ids of the one it resumes). */
  firstId?: number;
}

interface Waiter {
  predicate: Predicate;
  resolve: (frame: Frame) => void;
}

export class TestClient {
  readonly frames: Frame[] = [];
  private readonly taken = new Set<Frame>();
  private waiters: Waiter[] = [];
  /** The id of the next request(); ids go on across a resume (the server drops ids that already ran). */
  nextId = 1;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly welcome: Promise<Frame>;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      // The resume seq (docs/adr/0008-resume.md) stays readable (frame.seq) but out of
      // toEqual/toMatchObject: comparisons of frames are about their content.
      if ('seq' in frame) Object.defineProperty(frame, 'seq', { value: frame['seq'], enumerable: false });
      this.frames.push(frame);
      for (const waiter of this.waiters) {
        if (!this.taken.has(frame) && waiter.predicate(frame)) {
          this.taken.add(frame);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          waiter.resolve(frame);
        }
      }
    });
    this.welcome = this.waitFor('welcome', 3000);
    this.welcome.catch(() => undefined); // tests that expect no welcome must not leave an unhandled rejection
  }

  static open(url: string, options: ClientOptions = {}): Promise<TestClient> {
    const protocols = options.protocols ?? (options.token ? [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${options.token}`] : [SUBPROTOCOL]);
    const full = options.query ? `${url}?${options.query}` : url;
    const ws = new WebSocket(full, protocols, { headers: options.headers, autoPong: options.autoPong ?? true });
    const client = new TestClient(ws);
    if (options.firstId !== undefined) client.nextId = options.firstId;
    cleanups.push(() => client.terminate());
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
    });
  }

  /** Waits for a frame (not yet taken by another wait) of `type` or matching `predicate`. */
  waitFor(match: string | Predicate, timeoutMs = 2000): Promise<Frame> {
    const predicate: Predicate = typeof match === 'string' ? (f) => f.type === match : match;
    const existing = this.frames.find((f) => !this.taken.has(f) && predicate(f));
    if (existing) {
      this.taken.add(existing);
      return Promise.resolve(existing);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(match)}; got ${JSON.stringify(this.frames.map((f) => f.type))}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends a request with a fresh id; resolves with its `ack` or `error` frame. */
  async request(frame: Record<string, unknown>, timeoutMs = 2000): Promise<Frame> {
    const id = this.nextId++;
    this.send({ ...frame, id });
    return this.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f['id'] === id, timeoutMs);
  }

  /** Sends a request and returns the ack's result; throws on an error frame. */
  async call(frame: Record<string, unknown>): Promise<any> {
    const reply = await this.request(frame);
    if (reply.type === 'error') throw new Error(`${reply['code']}: ${reply['message']}`);
    return reply['result'];
  }

  /** Round-trips a ping: every frame the server wrote to this socket before now has arrived. */
  async sync(): Promise<void> {
    const ts = Math.random();
    this.send({ type: 'ping', ts });
    await this.waitFor((f) => f.type === 'pong' && f['ts'] === ts);
  }

  /** All received frames matching a predicate (taken or not). */
  all(match: string | Predicate): Frame[] {
    const predicate: Predicate = typeof match === 'string' ? (f) => f.type === match : match;
    return this.frames.filter(predicate);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    await this.closed;
  }

  terminate(): void {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }
}

/** Attempts an upgrade that should be refused; resolves with the HTTP status and JSON body. */
export function expectRejected(url: string, options: ClientOptions = {}): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  const protocols = options.protocols ?? (options.token ? [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${options.token}`] : [SUBPROTOCOL]);
  const full = options.query ? `${url}?${options.query}` : url;
  const ws = new WebSocket(full, protocols, { headers: options.headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('upgrade unexpectedly succeeded'));
    });
    ws.once('error', () => undefined);
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep text
        }
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
        ws.terminate();
      });
    });
  });
}

/** Joins `group` and waits for the ack. */
export async function join(client: TestClient, group: string | null): Promise<Frame> {
  const reply = await client.request({ type: 'join', group });
  if (reply.type !== 'ack') throw new Error(`join failed: ${JSON.stringify(reply)}`);
  return reply;
}

export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: res.status, body, headers: res.headers };
}
