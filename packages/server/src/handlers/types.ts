import type { AckResultOf, ClientMessageOf, ClientMessageType, RequestType } from '@switchboard/protocol';
import type { ServerContext, Session } from '../context.js';
import type { AckSlot } from '../state/delivery.js';

/** Returned by handlers that answer with something other than an ack (ping → pong). */
export const NO_REPLY: unique symbol = Symbol('no-reply');

/**
 * What the handler of a `T` frame resolves with: the ack `result` of its request type, from the
 * protocol's result schema (sent when the frame had an `id`), or NO_REPLY for `ping`. A handler
 * that returns another shape does not compile.
 */
export type HandlerResult<T extends ClientMessageType> = T extends RequestType ? AckResultOf<T> : typeof NO_REPLY;

/**
 * A handler throws RequestError to answer with an `error` frame instead of an ack. `ack` (a
 * resumable connection's request with an id): a handler may let the delivery send the ack with
 * the frame it sends (AckSlot); the result it resolves with is then not sent again.
 */
export type Handler<T extends ClientMessageType> = (
  ctx: ServerContext,
  session: Session,
  message: ClientMessageOf<T>,
  ack?: AckSlot,
) => Promise<HandlerResult<T>>;

/** One handler per client frame type: a missing one is a compile error. */
export type HandlerMap = { [T in ClientMessageType]: Handler<T> };
