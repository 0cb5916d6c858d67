/**
 * Carrying STUN requests to a STUN/TURN URL over UDP (with retransmission), TCP or TLS
 * (framed by the STUN length field), matching answers by transaction id. Failures to reach
 * the server at all are ProbeErrors, worded for the doctor's report.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { isIpLiteral, type IceUrl } from './ice-urls.js';
import { decodeMessage, type StunMessage } from './stun-message.js';

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

export interface ProbeOptions {
  timeoutMs?: number;
  /** TLS (stuns:/turns:): accept any certificate. */
  insecureTls?: boolean;
}

export interface StunChannel {
  /** Sends `request` (re-sending over UDP) until a message with its transaction id arrives. */
  request(request: Buffer, transactionId: Buffer, timeoutMs: number): Promise<StunMessage>;
  /** Stops waiting for answers and closes the socket. */
  close(): void;
}

/** Connects to the URL's host and port over its transport; throws ProbeError when that fails. */
export async function openChannel(url: IceUrl, options: ProbeOptions): Promise<StunChannel> {
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

async function resolveHost(host: string): Promise<{ address: string; family: 4 | 6 }> {
  if (isIpLiteral(host)) return { address: host, family: host.includes(':') ? 6 : 4 };
  try {
    const found = await lookup(host);
    return { address: found.address, family: found.family === 6 ? 6 : 4 };
  } catch (err) {
    throw new ProbeError('dns', `cannot resolve ${host} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function udpChannel(socket: UdpSocket): StunChannel {
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

function streamChannel(socket: Socket, label: string): StunChannel {
  let buffered = Buffer.alloc(0);
  // null: the connection failed and `failure` says why.
  const waiting = new Map<string, (m: StunMessage | null) => void>();
  let failure: ProbeError | null = null;
  const failAll = (err: ProbeError) => {
    failure ??= err;
    for (const fn of waiting.values()) fn(null);
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
