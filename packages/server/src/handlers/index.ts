import type { ClientMessage } from '@switchboard/protocol';
import type { ServerContext, Session } from '../context.js';
import type { AckSlot } from '../state/delivery.js';
import { ice } from './ice.js';
import { join } from './join.js';
import { listGroups } from './list-groups.js';
import { listUsers } from './list-users.js';
import { ping } from './ping.js';
import { post } from './post.js';
import { pushKey, pushSubscribe, pushUnsubscribe } from './push.js';
import { rtc } from './rtc.js';
import type { HandlerMap } from './types.js';

export { NO_REPLY } from './types.js';
export { handleDisconnect } from './disconnect.js';

export const handlers: HandlerMap = {
  join,
  post,
  list_users: listUsers,
  list_groups: listGroups,
  ping,
  rtc,
  ice,
  push_key: pushKey,
  push_subscribe: pushSubscribe,
  push_unsubscribe: pushUnsubscribe,
};

export function dispatch(ctx: ServerContext, session: Session, message: ClientMessage, ack?: AckSlot): Promise<unknown> {
  const handler = handlers[message.type] as (c: ServerContext, s: Session, m: ClientMessage, a?: AckSlot) => Promise<unknown>;
  return handler(ctx, session, message, ack);
}
