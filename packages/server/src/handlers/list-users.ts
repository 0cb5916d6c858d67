import { groupNameProblem, PAGE_LIMIT_DEFAULT } from '@switchboard/protocol';
import { RequestError } from '../request-error.js';
import { listingLimitedToOwnGroup, ownGroup } from './guest-scope.js';
import type { Handler } from './types.js';

/** getRealtimeUsers: one row per connection, `{list, startKey, endOfList}`; group defaults to the joined one. */
export const listUsers: Handler<'list_users'> = async (ctx, session, msg) => {
  let group = msg.group === undefined || msg.group === '' ? null : msg.group;
  const joined = group === null || listingLimitedToOwnGroup(ctx, session) ? await ownGroup(ctx, session) : null;
  if (group === null) {
    group = joined;
    if (group === null) throw new RequestError('INVALID_REQUEST', 'No group has been joined. Otherwise "group" is required.');
  } else {
    const problem = groupNameProblem(group);
    if (problem) throw new RequestError('INVALID_PARAMETER', problem);
    if (listingLimitedToOwnGroup(ctx, session) && group !== joined) {
      throw new RequestError('FORBIDDEN', 'Guests may list the users of the group they joined only (guestListing: own-group).');
    }
  }
  return ctx.store.listUsers({
    group,
    user_id: msg.user_id,
    limit: msg.limit ?? PAGE_LIMIT_DEFAULT,
    startKey: msg.startKey,
    ascending: msg.ascending ?? true,
  });
};
