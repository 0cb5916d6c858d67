import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { Platform } from '../types.js';
import { nodePeerConnectionClass, type NodeRtcOptions } from './peer-connection.js';

const MAX_BODY = 64 * 1024;
const failures = new WeakMap<object, { status: number; body: string }>();

/**
 * `ws` with the browser constructor signature. A refused upgrade is kept
 * (status and body) so the SDK can say why, then the socket is dropped.
 */
class NodeWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
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
}

/** Node settings: where ICE binds, port range, and the cleanup policy (see peer-connection.ts). */
export type NodePlatformOptions = NodeRtcOptions;

/**
 * The Node platform: `ws` for the socket, global fetch, node-datachannel for WebRTC (data
 * channels only: no getUserMedia, so asking for media fails with NOT_SUPPORTED).
 */
export function nodePlatform(options: NodePlatformOptions = {}): Platform {
  return {
    WebSocket: NodeWebSocket as unknown as Platform['WebSocket'],
    fetch: (input, init) => globalThis.fetch(input, init),
    RTCPeerConnection: nodePeerConnectionClass(options),
    getUserMedia: undefined,
    isSecureContext: () => true,
    kind: 'node',
    upgradeFailure: (socket) => failures.get(socket),
    canRestartIce: false,
    reportsIceDisconnect: false,
  };
}
