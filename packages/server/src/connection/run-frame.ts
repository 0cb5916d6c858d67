/**
 * Running one admitted frame and answering it (connection.ts owns the queue and the socket).
 *
 * The fast path: a frame that arrives while the connection's queue is idle runs at once, and a
 * relay whose state is all in this process (handlers/fast.ts) finishes, ack included, before
 * onFrame returns: no promise per frame. Anything that has to wait returns its promise, which
 * the connection queues so the frames after it wait too.
 */
import type { ClientMessage, ErrorCode } from '@switchboard/protocol';
import type { ServerContext, Session } from '../context.js';
import { dispatchNow } from '../handlers/fast.js';
import { dispatch, NO_REPLY } from '../handlers/index.js';
import { RequestError } from '../request-error.js';
import { buildFrame, type AckSlot, type OutboundFrame } from '../state/delivery.js';

export interface FrameRunner extends Session {
  readonly ctx: ServerContext;
  /** The cid is resumable: replies are numbered and buffered for replay. */
  readonly held: boolean;
  /** False once closing: an accepted frame that had not run yet is dropped. */
  accepting(): boolean;
  /** Request `id` may run (it did not run under an earlier resume generation); records it. */
  startRequest(id: number): boolean;
  sendError(id: number | null, code: ErrorCode, message: string): Promise<void> | undefined;
}

/** Runs one admitted frame; returns a promise only when some step had to wait. */
export function runFrame(conn: FrameRunner, message: ClientMessage, id: number | null): Promise<void> | undefined {
  if (!conn.accepting() || (id !== null && !conn.startRequest(id))) return undefined;
  let result: unknown;
  try {
    result = dispatchNow(conn.ctx, conn, message);
  } catch (err) {
    return failed(conn, id, message, err);
  }
  if (result === undefined) return runAsync(conn, message, id);
  return id === null ? undefined : reply(conn, ackFrame(message, id, result));
}

/**
 * The ack of a relayed description or candidate may wait for the next frame to its socket
 * (Connection.send): the SDK only listens to it for an error, and a call's signals come in bursts
 * both ways, so most such acks share a write with the peer's next signal. Errors never wait.
 */
function ackFrame(message: ClientMessage, id: number, result: unknown): OutboundFrame {
  return buildFrame({ type: 'ack', id, result }, ackMayWait(message));
}

const ackMayWait = (message: ClientMessage): boolean =>
  message.type === 'rtc' && (message.signal.kind === 'description' || message.signal.kind === 'candidate');

async function runAsync(conn: FrameRunner, message: ClientMessage, id: number | null): Promise<void> {
  // A numbered ack may leave with the request's own frame (AckSlot): one buffered step, not two.
  const ack: AckSlot | undefined = id !== null && conn.held ? { cid: conn.cid, id, mayWait: ackMayWait(message), acked: false } : undefined;
  try {
    const result = await dispatch(conn.ctx, conn, message, ack);
    if (result !== NO_REPLY && id !== null && ack?.acked !== true) await reply(conn, ackFrame(message, id, result));
  } catch (err) {
    await failed(conn, id, message, err);
  }
}

function failed(conn: FrameRunner, id: number | null, message: ClientMessage, err: unknown): Promise<void> | undefined {
  if (err instanceof RequestError) return conn.sendError(id, err.code, err.message);
  conn.ctx.log.error({ cid: conn.cid, type: message.type, err }, 'handler failed');
  return conn.sendError(id, 'INTERNAL', 'Internal server error.');
}

/**
 * A reply (ack, or error with an id): numbered and buffered through the delivery when the cid
 * is resumable, so it reaches the client even if the socket dies now (or already did).
 */
export function reply(conn: FrameRunner, frame: OutboundFrame): Promise<void> | undefined {
  if (!conn.held) {
    conn.send(frame);
    return undefined;
  }
  const { delivery } = conn.ctx;
  if (delivery.sendNow !== undefined) {
    delivery.sendNow(conn.cid, frame);
    return undefined;
  }
  return delivery.send([conn.cid], frame).then(
    () => undefined,
    () => void conn.send(frame), // the replay store is unreachable: unnumbered, as without resume
  );
}
