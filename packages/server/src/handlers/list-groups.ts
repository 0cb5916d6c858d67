import { PAGE_LIMIT_DEFAULT } from '@switchboard/protocol';
import { matchesGroupFilter, normalizeGroupFilter } from '../state/group-search.js';
import { listingLimitedToOwnGroup, ownGroup } from './guest-scope.js';
import type { Handler } from './types.js';

/** getRealtimeGroups: `{list: [{group, number_of_users}], startKey, endOfList}` with Skapi's search rules. */
export const listGroups: Handler<'list_groups'> = async (ctx, session, msg) => {
  const filter = normalizeGroupFilter(msg);
  if (listingLimitedToOwnGroup(ctx, session)) {
    // At most one row, the caller's group, when it also passes the caller's filter.
    const group = msg.startKey === undefined ? await ownGroup(ctx, session) : null;
    const own = group === null ? [] : (await ctx.store.listGroups({ searchFor: 'group', value: group, condition: '=', limit: 1, ascending: true })).list;
    return { list: own.filter((row) => matchesGroupFilter(row, filter)), startKey: 'end', endOfList: true };
  }
  return ctx.store.listGroups({
    ...filter,
    limit: msg.limit ?? PAGE_LIMIT_DEFAULT,
    startKey: msg.startKey,
    ascending: msg.ascending ?? true,
  });
};
