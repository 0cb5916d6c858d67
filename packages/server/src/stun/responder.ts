/**
 * The server's own STUN responder: answers Binding requests on UDP so clients learn their
 * public address (server-reflexive candidates) without a third-party STUN server. Nothing
 * else: no TURN, no authentication. Garbage is dropped silently (UDP ports are scanned all
 * day; logging each probe would be a log flood of its own).
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { StartupError } from '../startup-error.js';
import { bindingSuccess, errorResponse, parseRequest } from './codec.js';
import { AddressBuckets, addressKey } from './rate-limit.js';

export interface StunOptions {
  host: string;
  port: number;
  perAddressPerSecond: number;
  /** The server's publicUrl: its host name goes into the stun: URL clients get. */
  publicUrl: string | null;
  registry: Registry;
  log: Logger;
}

export interface StunResponder {
  /** The bound UDP port. */
  readonly port: number;
  /** The bound address (0.0.0.0 or :: when on every interface). */
  readonly address: string;
  /**
   * The stun: URL for a client whose HTTP/WebSocket connection arrived on `localAddress`:
   * publicUrl's host when set, else the bound address, else (bound to every interface) the
   * address the client reached us on. Never the Host header: a client must not be able to
   * make the server hand another client a URL of its choosing. Null when no usable host.
   */
  url(localAddress?: string): string | null;
  close(): Promise<void>;
}

const unmapped = (a: string) => (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a);
const bracket = (h: string) => (isIP(h) === 6 ? `[${h}]` : h);

export async function startStun(options: StunOptions): Promise<StunResponder> {
  const { port, log } = options;
  let resolved: { address: string; family: number };
  try {
    resolved = isIP(options.host) !== 0 ? { address: options.host, family: isIP(options.host) } : await lookup(options.host);
  } catch (err) {
    throw new StartupError('stun.host', `cannot resolve ${options.host} to an address of this machine`, { cause: err });
  }
  const socket = createSocket({ type: resolved.family === 6 ? 'udp6' : 'udp4' });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, resolved.address, () => {
      socket.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    socket.close();
    throw bindError(err, port, options.host);
  });
  const bound = socket.address();
  const wildcard = bound.address === '0.0.0.0' || bound.address === '::';
  const publicHost = options.publicUrl ? new URL(options.publicUrl).hostname.replace(/^\[(.*)\]$/, '$1') : null;

  const requests = new Counter({
    name: 'switchboard_stun_requests_total',
    help: "STUN requests on the server's own STUN port, by result: answered (Binding success), error (error response), rate_limited, ignored (not a STUN request).",
    labelNames: ['result'] as const,
    registers: [options.registry],
  });
  const buckets = new AddressBuckets(options.perAddressPerSecond);
  socket.on('message', (msg, rinfo) => onMessage(socket, msg, rinfo.address, rinfo.port));
  // Sending to an unreachable source can surface here (ICMP): never fatal for the server.
  socket.on('error', (err) => log.warn({ err: err.message }, 'stun socket error'));
  log.info({ port: bound.port, address: bound.address }, 'stun listening');

  function onMessage(sock: Socket, msg: Buffer, address: string, sourcePort: number): void {
    // Browsers never use privileged ports; DNS, NTP, chargen… are what reflection attacks aim at.
    const request = sourcePort >= 1024 ? parseRequest(msg) : null;
    if (!request) {
      requests.inc({ result: 'ignored' });
      return;
    }
    if (!buckets.take(addressKey(address))) {
      requests.inc({ result: 'rate_limited' });
      return;
    }
    const out = request.kind === 'binding' ? bindingSuccess(request.transactionId, address, sourcePort) : errorResponse(request);
    requests.inc({ result: request.kind === 'binding' ? 'answered' : 'error' });
    sock.send(out, sourcePort, address, (err) => {
      if (err) log.debug({ err: err.message }, 'stun send failed');
    });
  }

  let closed: Promise<void> | null = null;
  return {
    port: bound.port,
    address: bound.address,
    url(localAddress) {
      const fromClient = !publicHost && wildcard;
      const host = publicHost ?? (wildcard ? (localAddress ? unmapped(localAddress) : null) : bound.address);
      if (!host || host.includes('%')) return null;
      // A dual-stack HTTP listener may be reached over IPv6 while STUN only listens on IPv4.
      if (fromClient && bound.family === 'IPv4' && isIP(host) === 6) return null;
      return `stun:${bracket(host)}:${bound.port}`;
    },
    close: () => (closed ??= new Promise<void>((resolve) => socket.close(() => resolve()))),
  };
}

const codeOf = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;

function bindError(err: unknown, port: number, host: string): StartupError {
  switch (codeOf(err)) {
    case 'EADDRINUSE':
      return new StartupError(
        'stun.port',
        `UDP ${port} is already in use on ${host} (coturn on this host? give stun.port another port, or set stun.enabled to false and let coturn answer STUN)`,
        { cause: err },
      );
    case 'EACCES':
      return new StartupError('stun.port', `UDP ${port} needs privileges on this machine (ports below 1024); choose a higher port`, { cause: err });
    case 'EADDRNOTAVAIL':
      return new StartupError('stun.host', `${host} is not an address of this machine`, { cause: err });
    default:
      return new StartupError('stun.port', `cannot listen on UDP ${host} port ${port}: ${(err as Error).message}`, { cause: err });
  }
}
