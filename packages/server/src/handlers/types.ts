import type { ClientMessageOf, ClientMessageType } from '@switchboard/protocol';
import type { ServerContext, Session } from '../context.js';

/** Returned by handlers that answer with something other than an ack (ping → pong). */
export const NO_REPLY: unique symbol = Symbol('no-reply');

/**
 * A handler returns the ack `result` (sent when the frame had an `id`) or
 * NO_REPLY; it throws RequestError to answer with an `error` frame.
 */
export type Handler<T extends ClientMessageType> = (
  ctx: ServerContext,
  session: Session,
  message: ClientMessageOf<T>,
) => Promise<unknown>;

/** One handler per client frame type: a missing one is a compile error. */
export type HandlerMap = { [T in ClientMessageType]: Handler<T> };
