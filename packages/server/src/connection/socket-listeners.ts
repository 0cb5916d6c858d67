/**
 * The WebSocket listeners of every connection: one set of functions shared by all, finding their
 * connection through the socket, instead of closures per connection (an idle connection's memory
 * is mostly what it holds; docs/benchmarks.md, "Idle connections").
 */
import type { RawData, WebSocket } from 'ws';
import type { ServerContext } from '../context.js';

export interface SocketOwner {
  readonly cid: string;
  readonly ctx: ServerContext;
  onFrame(data: RawData, isBinary: boolean): void;
  /** A pong: the peer is alive; with a seq, it has every frame through it (delivery-probe.ts). */
  onPong(data: Buffer): void;
  onClose(code: number): void;
}

const OWNER = Symbol('owner');
type Owned = WebSocket & { [OWNER]: SocketOwner };

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  (this as Owned)[OWNER].onFrame(data, isBinary);
}
function onPong(this: WebSocket, data: Buffer): void {
  (this as Owned)[OWNER].onPong(data);
}
function onError(this: WebSocket, err: Error): void {
  const owner = (this as Owned)[OWNER];
  owner.ctx.log.debug({ cid: owner.cid, err: err.message }, 'socket error');
}
function onClose(this: WebSocket, code: number): void {
  (this as Owned)[OWNER].onClose(code);
}

/** Sends `ws`'s frames, pongs, errors and close to `owner`. */
export function listenTo(ws: WebSocket, owner: SocketOwner): void {
  (ws as Owned)[OWNER] = owner;
  ws.on('message', onMessage);
  ws.on('pong', onPong);
  ws.on('error', onError);
  ws.on('close', onClose);
}
