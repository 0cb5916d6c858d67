import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { Platform } from '../types.js';
import { nodePeerConnectionClass, type NodeRtcOptions } from './peer-connection.js';
import { certificateRefusal, fetchWithCa, trustedCas, type CaOption } from './tls.js';

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
  };
}

/** Node settings: where ICE binds, port range, and the cleanup policy (see peer-connection.ts). */
export interface NodePlatformOptions extends NodeRtcOptions {
  /** Extra CA certificates to trust (PEM), e.g. a self-signed server's `.switchboard/tls/cert.pem`; the system roots stay trusted. */
  ca?: CaOption;
}

/** Certificate failures answer like a refusing server (HTTP 495, CERTIFICATE_UNTRUSTED), which the SDK does not retry. */
function trustAwareFetch(base: typeof fetch): typeof fetch {
  return async (input, init) => {
    try {
      return await base(input, init);
    } catch (err) {
      const refusal = certificateRefusal(input instanceof Request ? input.url : String(input), err);
      if (!refusal) throw err;
      return new Response(refusal.body, { status: refusal.status, headers: { 'content-type': 'application/json' } });
    }
  };
}

/**
 * The Node platform: `ws` for the socket, global fetch, node-datachannel for WebRTC (data
 * channels only: no getUserMedia, so asking for media fails with NOT_SUPPORTED).
 */
export function nodePlatform(options: NodePlatformOptions = {}): Platform {
  const { ca, ...rtc } = options;
  const cas = trustedCas(ca);
  return {
    WebSocket: nodeWebSocketClass(cas) as unknown as Platform['WebSocket'],
    fetch: trustAwareFetch(cas ? fetchWithCa(cas) : (input, init) => globalThis.fetch(input, init)),
    RTCPeerConnection: nodePeerConnectionClass(rtc),
    getUserMedia: undefined,
    isSecureContext: () => true,
    kind: 'node',
    upgradeFailure: (socket) => failures.get(socket),
    canRestartIce: false,
    reportsIceDisconnect: false,
  };
}
