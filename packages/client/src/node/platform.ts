import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { Platform } from '../types.js';
import { nodePeerConnectionClass, type NodeRtcOptions } from './peer-connection.js';
import { nodeFetch } from './http-fetch.js';
import { certificateRefusal, trustedCas, type CaOption } from './tls.js';

const MAX_BODY = 64 * 1024;
const failures = new WeakMap<object, { status: number; body: string }>();

/**
 * `ws` with the browser constructor signature. A refused upgrade is kept
 * (status and body) so the SDK can say why, then the socket is dropped; so is an
 * untrusted certificate, as a final refusal.
 */
function nodeWebSocketClass(ca: (string | Buffer)[] | undefined) {
  return class NodeWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, ca ? { ca } : {});
      // 'error' comes before 'close', so the refusal is there when the session asks why.
      this.on('error', (err) => {
        const refusal = certificateRefusal(url, err);
        if (refusal) failures.set(this, refusal);
      });
      this.on('unexpected-response', (_request, response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          failures.set(this, { status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
          this.terminate();
        };
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY) chunks.push(chunk);
        });
        response.on('end', done);
        response.on('error', done);
        response.on('aborted', done);
      });
    }

    /**
     * Frames sent in one go (say, answers to the frames of one read) leave in one write: the TCP
     * socket is corked from the first send until the end of the current tick, instead of one
     * system call per frame.
     */
    override send(data: Parameters<WebSocket['send']>[0], options?: object | ((error?: Error) => void), cb?: (error?: Error) => void): void {
      const socket = (this as unknown as { _socket?: Socket | null })._socket;
      if (!this.corked && socket && this.readyState === WebSocket.OPEN) {
        this.corked = true;
        socket.cork();
        process.nextTick(uncork, this, socket);
      }
      super.send(data, options as never, cb);
    }

    corked = false;
  };
}

function uncork(ws: { corked: boolean }, socket: Socket): void {
  ws.corked = false;
  socket.uncork();
}

/** Node settings: where ICE binds, port range, and the cleanup policy (see peer-connection.ts). */
export interface NodePlatformOptions extends NodeRtcOptions {
  /** Extra CA certificates to trust (PEM), e.g. a self-signed server's `.switchboard/tls/cert.pem`; the system roots stay trusted. */
  ca?: CaOption;
}

/**
 * The Node platform: `ws` for the socket, node:http(s) for requests (http-fetch.ts), node-datachannel for WebRTC (data
 * channels only: no getUserMedia, so asking for media fails with NOT_SUPPORTED).
 */
export function nodePlatform(options: NodePlatformOptions = {}): Platform {
  const { ca, ...rtc } = options;
  const cas = trustedCas(ca);
  return {
    WebSocket: nodeWebSocketClass(cas) as unknown as Platform['WebSocket'],
    fetch: nodeFetch(cas),
    RTCPeerConnection: nodePeerConnectionClass(rtc),
    getUserMedia: undefined,
    isSecureContext: () => true,
    kind: 'node',
    upgradeFailure: (socket) => failures.get(socket),
    canRestartIce: false,
    reportsIceDisconnect: false,
  };
}
