/**
 * Acks are tied to the protocol's result schemas (checked by tsc in test/handler-types.test.ts):
 * each handler resolves with exactly the ack result of its request type, and a handler that
 * returns another shape does not compile.
 */
import type { AckResultOf, ClientMessageType, RequestType, ResultOf } from '@switchboard/protocol';
import { expectTypeOf } from 'vitest';
import { handlers, NO_REPLY } from '../../src/handlers/index.js';
import type { Handler, HandlerResult } from '../../src/handlers/types.js';

// Every client frame type but ping is a request with a result schema.
expectTypeOf<RequestType>().toEqualTypeOf<Exclude<ClientMessageType, 'ping'>>();
expectTypeOf<AckResultOf<'join'>>().toEqualTypeOf<{ group: string | null }>();
expectTypeOf<AckResultOf<'post'>>().toEqualTypeOf<{ delivered: number }>();
expectTypeOf<AckResultOf<'rtc'>>().toEqualTypeOf<{ delivered: number }>();
expectTypeOf<AckResultOf<'list_users'>>().toEqualTypeOf<ResultOf<'list_users'>>();
expectTypeOf<AckResultOf<'ice'>['iceExpiresAt']>().toEqualTypeOf<number | null>();

// The registry: each handler resolves with its own request's result.
expectTypeOf(handlers.join).returns.resolves.toEqualTypeOf<AckResultOf<'join'>>();
expectTypeOf(handlers.post).returns.resolves.toEqualTypeOf<AckResultOf<'post'>>();
expectTypeOf(handlers.rtc).returns.resolves.toEqualTypeOf<AckResultOf<'rtc'>>();
expectTypeOf(handlers.list_users).returns.resolves.toEqualTypeOf<AckResultOf<'list_users'>>();
expectTypeOf(handlers.list_groups).returns.resolves.toEqualTypeOf<AckResultOf<'list_groups'>>();
expectTypeOf(handlers.ice).returns.resolves.toEqualTypeOf<AckResultOf<'ice'>>();
expectTypeOf(handlers.ping).returns.resolves.toEqualTypeOf<typeof NO_REPLY>();
expectTypeOf<HandlerResult<'ping'>>().toEqualTypeOf<typeof NO_REPLY>();

// Wrong results do not compile.
// @ts-expect-error another request's result (join's) from the post handler
export const postWithJoinResult: Handler<'post'> = async () => ({ group: null });
// @ts-expect-error `delivered` must be a number
export const postWithStringCount: Handler<'post'> = async () => ({ delivered: '1' });
// @ts-expect-error join acks `{group}`, not `{delivered}`
export const joinWithPostResult: Handler<'join'> = async () => ({ delivered: 1 });
// @ts-expect-error a listing must say whether it ended
export const usersWithoutEnd: Handler<'list_users'> = async () => ({ list: [], startKey: 'end' });
// @ts-expect-error ping answers with pong itself and acks nothing
export const pingWithAck: Handler<'ping'> = async () => ({ delivered: 1 });
// @ts-expect-error a request must be acked with its result, not NO_REPLY
export const iceWithoutReply: Handler<'ice'> = async () => NO_REPLY;
// @ts-expect-error an untyped result is not an ack result
export const rtcUnknown: Handler<'rtc'> = async () => ({}) as unknown;
// The right shapes compile.
export const postOk: Handler<'post'> = async () => ({ delivered: 1 });
export const joinOk: Handler<'join'> = async (_ctx, _session, msg) => ({ group: msg.group });
