/**
 * Redis and coturn for tests, started in the foreground as children of the test process
 * (so stop() and the exit hook always reach them), following testing-webrtc.md.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from './netns.js';
import { freePort, startProcess, waitForPort, type ManagedProcess } from './processes.js';

// ------------------------------------------------------------------------------------ Redis

export interface RedisHandle {
  host: string;
  port: number;
  /** `redis://host:port` */
  url: string;
  process: ManagedProcess;
  /** Sends one command and returns the decoded reply (host namespace only). */
  command(...args: Array<string | number>): Promise<RespValue>;
  stop(): Promise<void>;
}

export type RespValue = string | number | null | RespValue[] | Error;

/** Starts redis-server on 127.0.0.1 (a free port, or 6379 inside a namespace), no persistence. */
export async function startRedis(options: { netns?: Netns | string; port?: number } = {}): Promise<RedisHandle> {
  const host = '127.0.0.1';
  const port = options.port ?? (options.netns ? 6379 : await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'sb-redis-'));
  const proc = await startProcess(
    'redis-server',
    ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir, '--loglevel', 'notice'],
    { name: `redis:${port}`, netns: options.netns, waitForLine: /Ready to accept connections/ },
  );
  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    process: proc,
    command: (...args) => redisCommand({ host, port }, ...args),
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A one-shot RESP client: connects, sends one command, parses one reply, closes. */
export function redisCommand(target: { host?: string; port: number }, ...args: Array<string | number>): Promise<RespValue> {
  const payload = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host ?? '127.0.0.1', port: target.port });
    let buffer = Buffer.alloc(0);
    socket.once('error', reject);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const parsed = parseResp(buffer, 0);
      if (parsed) {
        socket.end();
        resolve(parsed.value);
      }
    });
    socket.write(payload);
  });
}

function parseResp(buf: Buffer, at: number): { value: RespValue; next: number } | null {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return null;
  const head = buf.toString('utf8', at + 1, eol);
  switch (String.fromCharCode(buf[at]!)) {
    case '+':
      return { value: head, next: eol + 2 };
    case '-':
      return { value: new Error(head), next: eol + 2 };
    case ':':
      return { value: Number(head), next: eol + 2 };
    case '$': {
      const length = Number(head);
      if (length < 0) return { value: null, next: eol + 2 };
      if (buf.length < eol + 2 + length + 2) return null;
      return { value: buf.toString('utf8', eol + 2, eol + 2 + length), next: eol + 2 + length + 2 };
    }
    case '*': {
      const count = Number(head);
      if (count < 0) return { value: null, next: eol + 2 };
      const items: RespValue[] = [];
      let next = eol + 2;
      for (let i = 0; i < count; i++) {
        const item = parseResp(buf, next);
        if (!item) return null;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP reply: ${buf.toString('utf8', at, Math.min(buf.length, at + 40))}`);
  }
}

// ------------------------------------------------------------------------------------ coturn

export interface CoturnOptions {
  netns?: Netns | string;
  /** Addresses to listen on (default ['127.0.0.1']). In topology (c) pass both of T's addresses. */
  listeningIps?: string[];
  /** The relay address (default: the first listening IP). */
  relayIp?: string;
  /** The `static-auth-secret` (default: random). */
  secret?: string;
  realm?: string;
  /** Listening port for UDP and TCP (default 3478 inside a namespace, a free port outside). */
  port?: number;
  /** Relay port range (default: 200 ports at a random offset in 40000–59999). */
  minPort?: number;
  maxPort?: number;
  /** coturn -v (logs each ALLOCATE); default true. */
  verbose?: boolean;
  extraArgs?: string[];
}

export interface TurnIceServer {
  urls: string[];
  username: string;
  credential: string;
}

export interface CoturnHandle {
  port: number;
  listeningIps: string[];
  relayIp: string;
  secret: string;
  realm: string;
  minPort: number;
  maxPort: number;
  process: ManagedProcess;
  /** `turn:` URLs for one of the listening IPs (default the first), UDP and/or TCP. */
  urls(ip?: string, transports?: Array<'udp' | 'tcp'>): string[];
  /** An RTCIceServer with fresh REST credentials for `userId`. */
  iceServer(userId: string, options?: { ip?: string; ttlSeconds?: number; transports?: Array<'udp' | 'tcp'> }): TurnIceServer;
  stop(): Promise<void>;
}

/** coturn REST credentials: username "<expiry unix seconds>:<user_id>", password base64(HMAC-SHA1(secret, username)). */
export function turnCredentials(secret: string, userId: string, ttlSeconds = 3600, now = Date.now()): { username: string; credential: string } {
  const username = `${Math.floor(now / 1000) + ttlSeconds}:${userId}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

export async function startCoturn(options: CoturnOptions = {}): Promise<CoturnHandle> {
  const listeningIps = options.listeningIps ?? ['127.0.0.1'];
  const relayIp = options.relayIp ?? listeningIps[0]!;
  const secret = options.secret ?? randomBytes(16).toString('hex');
  const realm = options.realm ?? 'switchboard.test';
  const port = options.port ?? (options.netns ? 3478 : await freePort());
  const minPort = options.minPort ?? 40000 + Math.floor(Math.random() * 99) * 200;
  const maxPort = options.maxPort ?? minPort + 199;
  const dir = mkdtempSync(join(tmpdir(), 'sb-coturn-'));
  const args = [
    '-n',
    '--no-cli',
    '--no-tls',
    '--no-dtls',
    ...listeningIps.flatMap((address) => ['--listening-ip', address]),
    '--relay-ip',
    relayIp,
    '--listening-port',
    String(port),
    '--min-port',
    String(minPort),
    '--max-port',
    String(maxPort),
    '--use-auth-secret',
    '--static-auth-secret',
    secret,
    '--realm',
    realm,
    '--fingerprint',
    '--allow-loopback-peers',
    '--no-multicast-peers',
    '--log-file',
    'stdout',
    '--simple-log',
    '--pidfile',
    join(dir, 'turnserver.pid'),
    '--userdb',
    join(dir, 'turndb'),
    ...(options.verbose === false ? [] : ['-v']),
    ...(options.extraArgs ?? []),
  ];
  const proc = await startProcess('turnserver', args, { name: `coturn:${port}`, netns: options.netns });
  try {
    await waitForPort(port, { netns: options.netns, protocol: 'udp', whileAlive: proc });
    await waitForPort(port, { netns: options.netns, protocol: 'tcp', whileAlive: proc });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const urls = (address = listeningIps[0]!, transports: Array<'udp' | 'tcp'> = ['udp', 'tcp']) =>
    transports.map((t) => `turn:${address}:${port}?transport=${t}`);
  return {
    port,
    listeningIps,
    relayIp,
    secret,
    realm,
    minPort,
    maxPort,
    process: proc,
    urls,
    iceServer(userId, opts = {}) {
      return { urls: urls(opts.ip, opts.transports), ...turnCredentials(secret, userId, opts.ttlSeconds) };
    },
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
