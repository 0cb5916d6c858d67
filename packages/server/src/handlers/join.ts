import { groupNameProblem } from '@switchboard/protocol';
import { RequestError } from '../request-error.js';
import { notifyGroup } from './notices.js';
import type { Handler } from './types.js';

/**
 * One group per connection. Joining another group leaves the old one (USER_LEFT
 * there), `null`/'' leaves. The ack is sent after membership changed and the
 * notices went out. Re-joining the current group changes nothing.
 */
export const join: Handler<'join'> = async (ctx, session, msg) => {
  const target = msg.group === null || msg.group === '' ? null : msg.group;
  if (target !== null) {
    const problem = groupNameProblem(target);
    if (problem) throw new RequestError('INVALID_PARAMETER', problem);
  }
  const current = (await ctx.store.getConnection(session.cid))?.group ?? null;
  if (current === target) return { group: target };
  const previous = await ctx.store.setGroup(session.cid, target);
  if (previous !== null) await notifyGroup(ctx, session, 'USER_LEFT', previous, [session.cid]);
  if (target !== null) await notifyGroup(ctx, session, 'USER_JOINED', target);
  return { group: target };
};
