import type { Handler } from './types.js';

/** Fresh ICE servers (new TURN credentials). */
export const ice: Handler<'ice'> = async (ctx, session) => ctx.ice.forUser(session.user.user_id);
