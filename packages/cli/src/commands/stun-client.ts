/**
 * A small STUN/TURN client (RFC 8489 / RFC 8656) for `switchboard doctor`: a Binding request
 * (is the server there? what is my public address?) and a TURN Allocate with long-term
 * credentials, over UDP, TCP or TLS. Unlike a WebRTC stack, which only gathers no relay
 * candidate when anything goes wrong, it sees the server's answer (401 = credentials refused,
 * 403 = forbidden, no answer = unreachable), so the doctor can name the problem.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { isIpLiteral, type IceUrl } from './ice-urls.js';

const MAGIC = 0x2112a442;
export const METHOD = { binding: 0x001, allocate: 0x003, refresh: 0x004, createPermission: 0x008 } as const;
const ATTR = {
  mappedAddress: 0x0001,
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  lifetime: 0x000d,
  xorPeerAddress: 0x0012,
  realm: 0x0014,
  nonce: 0x0015,
  xorRelayedAddress: 0x0016,
  requestedTransport: 0x0019,
  xorMappedAddress: 0x0020,
  software: 0x8022,
  fingerprint: 0x8028,
} as const;

export interface StunAttribute {
  type: number;
  value: Buffer;
}

export interface StunMessage {
  /** Method and class bits, e.g. 0x0101 Binding success. */
  type: number;
  method: number;
  cls: 'request' | 'indication' | 'success' | 'error';
  transactionId: Buffer;
  attributes: StunAttribute[];
}

export interface Address {
  family: 4 | 6;
  address: string;
  port: number;
}

const CLASSES = ['request', 'indication', 'success', 'error'] as const;

function messageType(method: number, cls: number): number {
  return ((method & 0xf80) << 2) | ((method & 0x070) << 1) | (method & 0x00f) | ((cls & 2) << 7) | ((cls & 1) << 4);
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function attribute(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value, Buffer.alloc(pad4(value.length))]);
}

/** Encodes a request; with `key`, appends MESSAGE-INTEGRITY (HMAC-SHA1) and FINGERPRINT. */
export function encodeRequest(method: number, transactionId: Buffer, attributes: StunAttribute[], key?: Buffer): Buffer {
  let body = Buffer.concat(attributes.map((a) => attribute(a.type, a.value)));
  const header = (length: number) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(messageType(method, 0), 0);
    h.writeUInt16BE(length, 2);
    h.writeUInt32BE(MAGIC, 4);
    transactionId.copy(h, 8);
    return h;
  };
  if (key) {
    const hmac = createHmac('sha1', key).update(Buffer.concat([header(body.length + 24), body])).digest();
    body = Buffer.concat([body, attribute(ATTR.messageIntegrity, hmac)]);
  }
  const crcInput = Buffer.concat([header(body.length + 8), body]);
  const fingerprint = Buffer.alloc(4);
  fingerprint.writeUInt32BE((crc32(crcInput) ^ 0x5354554e) >>> 0, 0);
  body = Buffer.concat([body, attribute(ATTR.fingerprint, fingerprint)]);
  return Buffer.concat([header(body.length), body]);
}

/** Decodes one STUN message (null when `buf` is not one). */
export function decodeMessage(buf: Buffer): StunMessage | null {
  if (buf.length < 20 || (buf[0]! & 0xc0) !== 0 || buf.readUInt32BE(4) !== MAGIC) return null;
  const length = buf.readUInt16BE(2);
  if (buf.length < 20 + length) return null;
  const type = buf.readUInt16BE(0);
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = ((type & 0x0100) >> 7) | ((type & 0x0010) >> 4);
  const attributes: StunAttribute[] = [];
  let at = 20;
  while (at + 4 <= 20 + length) {
    const t = buf.readUInt16BE(at);
    const len = buf.readUInt16BE(at + 2);
    if (at + 4 + len > 20 + length) break;
    attributes.push({ type: t, value: buf.subarray(at + 4, at + 4 + len) });
    at += 4 + len + pad4(len);
  }
  return { type, method, cls: CLASSES[cls]!, transactionId: buf.subarray(8, 20), attributes };
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function attr(message: StunMessage, type: number): Buffer | undefined {
  return message.attributes.find((a) => a.type === type)?.value;
}

export function decodeXorAddress(value: Buffer, transactionId: Buffer): Address | null {
  if (value.length < 8) return null;
  const family = value[1] === 0x02 ? 6 : 4;
  const port = value.readUInt16BE(2) ^ (MAGIC >>> 16);
  if (family === 4) {
    const raw = value.readUInt32BE(4) ^ MAGIC;
    return { family, port, address: [24, 16, 8, 0].map((s) => (raw >>> s) & 0xff).join('.') };
  }
  if (value.length < 20) return null;
  const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), transactionId]);
  const bytes = Buffer.from(value.subarray(4, 20).map((b, i) => b ^ mask[i]!));
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return { family, port, address: groups.join(':') };
}

function encodeXorAddress(address: string, port: number, transactionId: Buffer): Buffer {
  if (address.includes(':')) throw new Error('IPv6 peers are not supported by this probe');
  const out = Buffer.alloc(8);
  out[1] = 0x01;
  out.writeUInt16BE(port ^ (MAGIC >>> 16), 2);
  const raw = address.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
  out.writeUInt32BE((raw ^ MAGIC) >>> 0, 4);
  void transactionId;
  return out;
}

export interface StunError {
  code: number;
  reason: string;
}

export function errorCode(message: StunMessage): StunError | null {
  const value = attr(message, ATTR.errorCode);
  if (!value || value.length < 4) return null;
  return { code: (value[2]! & 0x07) * 100 + value[3]!, reason: value.subarray(4).toString('utf8') };
}

// ------------------------------------------------------------------------------- transport

/** Why a probe got no answer, worded for the report. */
export class ProbeError extends Error {
  constructor(
    readonly kind: 'dns' | 'unreachable' | 'timeout' | 'tls' | 'closed',
    message: string,
  ) {
    super(message);
    this.name = 'ProbeError';
  }
}

interface Channel {
  /** Sends `request` (re-sending over UDP) until a message with its transaction id arrives. */
  request(request: Buffer, transactionId: Buffer, timeoutMs: number): Promise<StunMessage>;
  /** The local address the server sees us from on this channel. */
  close(): void;
}

async function resolveHost(host: string): Promise<{ address: string; family: 4 | 6 }> {
  if (isIpLiteral(host)) return { address: host, family: host.includes(':') ? 6 : 4 };
  try {
    const found = await lookup(host);
    return { address: found.address, family: found.family === 6 ? 6 : 4 };
  } catch (err) {
    throw new ProbeError('dns', `cannot resolve ${host} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function udpChannel(socket: UdpSocket): Channel {
  const waiting = new Map<string, (m: StunMessage) => void>();
  let failure: Error | null = null;
  socket.on('message', (data) => {
    const message = decodeMessage(data);
    if (message) waiting.get(message.transactionId.toString('hex'))?.(message);
  });
  socket.on('error', (err) => {
    failure = err;
  });
  return {
    request(request, transactionId, timeoutMs) {
      return new Promise((resolve, reject) => {
        const id = transactionId.toString('hex');
        let interval = 250;
        let timer: NodeJS.Timeout;
        const started = Date.now();
        const finish = () => {
          clearTimeout(timer);
          waiting.delete(id);
        };
        const send = () => {
          if (failure) {
            finish();
            reject(new ProbeError('unreachable', `UDP error: ${failure.message}`));
            return;
          }
          socket.send(request);
          const left = timeoutMs - (Date.now() - started);
          if (left <= 0) {
            finish();
            reject(new ProbeError('timeout', `no answer over UDP within ${timeoutMs} ms`));
            return;
          }
          timer = setTimeout(send, Math.min(interval, left));
          interval = Math.min(interval * 2, 1600);
        };
        waiting.set(id, (m) => {
          finish();
          resolve(m);
        });
        send();
      });
    },
    close() {
      for (const id of [...waiting.keys()]) waiting.delete(id);
      try {
        socket.close();
      } catch {
        // already closed
      }
    },
  };
}

function streamChannel(socket: Socket, label: string): Channel {
  let buffered = Buffer.alloc(0);
  const waiting = new Map<string, (m: StunMessage) => void>();
  let failure: ProbeError | null = null;
  const failAll = (err: ProbeError) => {
    failure ??= err;
    for (const fn of waiting.values()) fn(null as unknown as StunMessage);
  };
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 20) {
      const total = 20 + buffered.readUInt16BE(2);
      if (buffered.length < total) break;
      const message = decodeMessage(buffered.subarray(0, total));
      buffered = buffered.subarray(total);
      if (message) waiting.get(message.transactionId.toString('hex'))?.(message);
    }
  });
  socket.on('error', (err) => failAll(new ProbeError('closed', `${label} connection error: ${err.message}`)));
  socket.on('close', () => failAll(new ProbeError('closed', `the server closed the ${label} connection`)));
  return {
    request(request, transactionId, timeoutMs) {
      return new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        const id = transactionId.toString('hex');
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new ProbeError('timeout', `no answer over ${label} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, (m) => {
          clearTimeout(timer);
          waiting.delete(id);
          if (m) resolve(m);
          else reject(failure!);
        });
        socket.write(request);
      });
    },
    close() {
      socket.destroy();
    },
  };
}

export interface ProbeOptions {
  timeoutMs?: number;
  /** TLS (stuns:/turns:): accept any certificate. */
  insecureTls?: boolean;
}

async function openChannel(url: IceUrl, options: ProbeOptions): Promise<Channel> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const { address, family } = await resolveHost(url.host);
  if (url.transport === 'udp') {
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(url.port, address, () => {
        socket.off('error', reject);
        resolve();
      });
    }).catch((err: Error) => {
      socket.close();
      throw new ProbeError('unreachable', `UDP ${address}:${url.port}: ${err.message}`);
    });
    return udpChannel(socket);
  }
  const label = url.secure ? 'TLS' : 'TCP';
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s: Socket = url.secure
      ? tlsConnect({
          host: address,
          port: url.port,
          servername: isIpLiteral(url.host) ? undefined : url.host,
          rejectUnauthorized: !options.insecureTls,
          ALPNProtocols: ['stun.turn'],
        })
      : tcpConnect({ host: address, port: url.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new ProbeError('timeout', `${label} connect to ${address}:${url.port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    s.once(url.secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      const tlsProblem = url.secure && (err.code?.startsWith('ERR_TLS') || /certificate|self[- ]signed|SSL|alert/i.test(`${err.code} ${err.message}`));
      reject(
        tlsProblem
          ? new ProbeError('tls', `TLS handshake with ${url.host}:${url.port} failed: ${err.message}`)
          : new ProbeError('unreachable', `${label} ${address}:${url.port}: ${err.code === 'ECONNREFUSED' ? 'connection refused' : err.message}`),
      );
    });
  });
  return streamChannel(socket, label);
}

// ------------------------------------------------------------------------------- probes

export interface BindingResult {
  mapped: Address | null;
  rttMs: number;
  software: string | null;
}

/** STUN Binding request: is the server there, and what address does it see? */
export async function stunBinding(url: IceUrl, options: ProbeOptions = {}): Promise<BindingResult> {
  const channel = await openChannel(url, options);
  try {
    const tid = randomBytes(12);
    const started = performance.now();
    const reply = await channel.request(encodeRequest(METHOD.binding, tid, []), tid, options.timeoutMs ?? 5000);
    const rttMs = performance.now() - started;
    const xor = attr(reply, ATTR.xorMappedAddress);
    return {
      mapped: xor ? decodeXorAddress(xor, reply.transactionId) : null,
      rttMs,
      software: attr(reply, ATTR.software)?.toString('utf8') ?? null,
    };
  } finally {
    channel.close();
  }
}

export type AllocateResult =
  | {
      ok: true;
      relayed: Address | null;
      mapped: Address | null;
      lifetimeSeconds: number | null;
      realm: string;
      rttMs: number;
      /** CreatePermission for a peer address (403 when the server denies that peer range). */
      createPermission(peer: string): Promise<{ ok: true } | { ok: false; error: StunError | null }>;
      /** Refresh with LIFETIME 0: frees the allocation, then closes the socket. */
      release(): Promise<void>;
    }
  | {
      ok: false;
      /** 401 after authenticating: the credentials were refused (wrong secret, expired, unknown user). */
      error: StunError;
      realm: string | null;
      /** True when the refusal came on the authenticated attempt (not just the first 401 challenge). */
      authenticated: boolean;
    };

/**
 * TURN Allocate (UDP relay) with long-term credentials: the unauthenticated request
 * draws a 401 with REALM and NONCE; the second carries USERNAME/REALM/NONCE and
 * MESSAGE-INTEGRITY keyed with MD5(username:realm:password). Throws ProbeError when the
 * server does not answer at all.
 */
export async function turnAllocate(
  url: IceUrl,
  credentials: { username: string; credential: string },
  options: ProbeOptions = {},
): Promise<AllocateResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const channel = await openChannel(url, options);
  let keep = false;
  try {
    const transport = { type: ATTR.requestedTransport, value: Buffer.from([17, 0, 0, 0]) };
    const started = performance.now();
    let tid = randomBytes(12);
    let reply = await channel.request(encodeRequest(METHOD.allocate, tid, [transport]), tid, timeoutMs);
    let realm: string | null = null;
    let nonce: Buffer | null = null;
    let key: Buffer | null = null;
    for (let attempt = 0; reply.cls === 'error' && attempt < 3; attempt++) {
      const error = errorCode(reply) ?? { code: 0, reason: 'no ERROR-CODE' };
      if (error.code !== 401 && error.code !== 438) return { ok: false, error, realm, authenticated: key !== null };
      if (error.code === 401 && key !== null) return { ok: false, error, realm, authenticated: true };
      realm = attr(reply, ATTR.realm)?.toString('utf8') ?? realm;
      nonce = attr(reply, ATTR.nonce) ?? nonce;
      if (realm === null || nonce === null) return { ok: false, error, realm, authenticated: false };
      key = createHash('md5').update(`${credentials.username}:${realm}:${credentials.credential}`).digest();
      tid = randomBytes(12);
      reply = await channel.request(
        encodeRequest(METHOD.allocate, tid, [
          transport,
          { type: ATTR.username, value: Buffer.from(credentials.username, 'utf8') },
          { type: ATTR.realm, value: Buffer.from(realm, 'utf8') },
          { type: ATTR.nonce, value: nonce },
        ], key),
        tid,
        timeoutMs,
      );
    }
    if (reply.cls !== 'success' || realm === null || nonce === null || key === null) {
      return { ok: false, error: errorCode(reply) ?? { code: 0, reason: `unexpected ${reply.cls} reply` }, realm, authenticated: key !== null };
    }
    const rttMs = performance.now() - started;
    const relayedRaw = attr(reply, ATTR.xorRelayedAddress);
    const mappedRaw = attr(reply, ATTR.xorMappedAddress);
    const lifetime = attr(reply, ATTR.lifetime);
    const authAttrs = () => [
      { type: ATTR.username, value: Buffer.from(credentials.username, 'utf8') },
      { type: ATTR.realm, value: Buffer.from(realm!, 'utf8') },
      { type: ATTR.nonce, value: nonce! },
    ];
    keep = true;
    let released = false;
    return {
      ok: true,
      relayed: relayedRaw ? decodeXorAddress(relayedRaw, reply.transactionId) : null,
      mapped: mappedRaw ? decodeXorAddress(mappedRaw, reply.transactionId) : null,
      lifetimeSeconds: lifetime && lifetime.length >= 4 ? lifetime.readUInt32BE(0) : null,
      realm,
      rttMs,
      async createPermission(peer) {
        const t = randomBytes(12);
        const answer = await channel.request(
          encodeRequest(METHOD.createPermission, t, [{ type: ATTR.xorPeerAddress, value: encodeXorAddress(peer, 0, t) }, ...authAttrs()], key!),
          t,
          timeoutMs,
        );
        return answer.cls === 'success' ? { ok: true } : { ok: false, error: errorCode(answer) };
      },
      async release() {
        if (released) return;
        released = true;
        try {
          const t = randomBytes(12);
          await channel.request(
            encodeRequest(METHOD.refresh, t, [{ type: ATTR.lifetime, value: Buffer.alloc(4) }, ...authAttrs()], key!),
            t,
            Math.min(timeoutMs, 2000),
          );
        } catch {
          // The allocation times out on the server anyway.
        } finally {
          channel.close();
        }
      },
    };
  } finally {
    if (!keep) channel.close();
  }
}
