/**
 * postRealtime's notification (Skapi's `postRealtime(msg, user_id, {title, body, config?})`):
 * the two calls post.ts makes, kept here so the post path stays as it was when no notification
 * is given. A push failure never fails the post; only the recipient's push budget does, when
 * nothing at all could be delivered.
 */
import type { ServerContext } from '../context.js';
import { RequestError } from '../request-error.js';

type Notification = { title: string; body: string };

/** The user has no open connection anywhere: push to their subscriptions and resolve as Skapi does. */
export async function pushForOfflinePost(ctx: ServerContext, userId: string, notification: Notification): Promise<{ delivered: number }> {
  const outcome = await ctx.push!.notifyUser(userId, { title: notification.title, body: notification.body }, { always: true }).catch((err: unknown) => {
    ctx.log.warn({ err: (err as Error).message }, 'push: notification not queued');
    return null;
  });
  if (outcome?.code === 'PUSH_RATE_LIMITED') {
    throw new RequestError('PUSH_RATE_LIMITED', `"${userId}" is offline and has had ${ctx.config.push.perUserPerMinute} pushes this minute; try again later.`);
  }
  return { delivered: 0 };
}

/** `config.always`: the connections got the message; push as well, without waiting for it. */
export function pushAlso(ctx: ServerContext, userId: string, notification: Notification): void {
  void ctx.push!.notifyUser(userId, { title: notification.title, body: notification.body }, { always: true }).catch((err: unknown) => {
    ctx.log.warn({ err: (err as Error).message }, 'push: notification not queued');
  });
}
