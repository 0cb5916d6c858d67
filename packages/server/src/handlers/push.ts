/** Web Push requests: the VAPID public key, subscribe, unsubscribe (Skapi's vapidPublicKey, subscribeNotification, unsubscribeNotification). */
import type { ServerContext } from '../context.js';
import { RequestError } from '../request-error.js';
import type { PushService } from '../push/index.js';
import type { Handler } from './types.js';

function pushOf(ctx: ServerContext): PushService {
  if (!ctx.push) throw new RequestError('NOT_SUPPORTED', 'Web Push is turned off on this server (push.enabled).');
  return ctx.push;
}

export const pushKey: Handler<'push_key'> = async (ctx) => ({ VAPIDPublicKey: await pushOf(ctx).publicKey() });

export const pushSubscribe: Handler<'push_subscribe'> = async (ctx, session, msg) => ({
  subscriptions: await pushOf(ctx).subscribe(session.user.user_id, msg.subscription),
});

export const pushUnsubscribe: Handler<'push_unsubscribe'> = async (ctx, session, msg) => ({
  removed: await pushOf(ctx).unsubscribe(session.user.user_id, msg.subscription.endpoint),
});
