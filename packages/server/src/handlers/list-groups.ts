import { PAGE_LIMIT_DEFAULT } from '@switchboard/protocol';
import { normalizeGroupFilter } from '../state/group-search.js';
import type { Handler } from './types.js';

/** getRealtimeGroups: `{list: [{group, number_of_users}], startKey, endOfList}` with Skapi's search rules. */
export const listGroups: Handler<'list_groups'> = async (ctx, _session, msg) => {
  const filter = normalizeGroupFilter(msg);
  return ctx.store.listGroups({
    ...filter,
    limit: msg.limit ?? PAGE_LIMIT_DEFAULT,
    startKey: msg.startKey,
    ascending: msg.ascending ?? true,
  });
};
