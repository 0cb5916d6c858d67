import type { ServerContext, Session } from '../context.js';

/**
 * With `guestListing: "own-group"`, guests see only the group they joined in
 * getRealtimeUsers/getRealtimeGroups. Guests are the ids POST /v1/guest issues
 * (`guest-…`, see guestUserId); an app that mints such ids itself gets the same
 * treatment, which only ever narrows what its users see.
 */
export function listingLimitedToOwnGroup(ctx: ServerContext, session: Session): boolean {
  return ctx.config.guestListing === 'own-group' && session.user.user_id.startsWith('guest-');
}

/** The caller's joined group, or null. */
export async function ownGroup(ctx: ServerContext, session: Session): Promise<string | null> {
  return (await ctx.store.getConnection(session.cid))?.group ?? null;
}
