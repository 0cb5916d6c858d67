import { groupNameProblem, PAGE_LIMIT_DEFAULT } from '@switchboard/protocol';
import { RequestError } from '../request-error.js';
import type { Handler } from './types.js';

/** getRealtimeUsers: one row per connection, `{list, startKey, endOfList}`; group defaults to the joined one. */
export const listUsers: Handler<'list_users'> = async (ctx, session, msg) => {
  let group = msg.group === undefined || msg.group === '' ? null : msg.group;
  if (group === null) {
    group = (await ctx.store.getConnection(session.cid))?.group ?? null;
    if (group === null) throw new RequestError('INVALID_REQUEST', 'No group has been joined. Otherwise "group" is required.');
  } else {
    const problem = groupNameProblem(group);
    if (problem) throw new RequestError('INVALID_PARAMETER', problem);
  }
  return ctx.store.listUsers({
    group,
    user_id: msg.user_id,
    limit: msg.limit ?? PAGE_LIMIT_DEFAULT,
    startKey: msg.startKey,
    ascending: msg.ascending ?? true,
  });
};
