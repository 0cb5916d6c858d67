import { isCid } from '@switchboard/protocol';
import { pushAlso, pushForOfflinePost } from '../push/post-hooks.js';
import { RequestError } from '../request-error.js';
import { buildFrame } from '../state/delivery.js';
import { sendToGroup } from '../state/group-send.js';
import type { Handler } from './types.js';

/**
 * `to` = the joined group → `message` to every member (sender included);
 * `cid:…` → `private` to that connection; otherwise a user_id → `private` to
 * all of that user's connections. Acks `{delivered}`.
 */
export const post: Handler<'post'> = async (ctx, session, msg, ack) => {
  if (msg.notification) {
    const { title, body } = msg.notification;
    if (Buffer.byteLength(JSON.stringify({ title, body })) > ctx.config.limits.maxNotificationBytes) {
      throw new RequestError('INVALID_PARAMETER', 'Notification size exceeds 3kb.');
    }
  }
  const group = (await ctx.store.getConnection(session.cid))?.group ?? null;
  const sender = { sender: session.user.user_id, sender_cid: session.cid };

  if (group !== null && msg.to === group) {
    const frame = buildFrame({ type: 'message', message: msg.message, ...sender, sender_rid: group });
    return { delivered: await sendToGroup(ctx, group, frame, [], ack) };
  }

  const privateFrame = () => buildFrame({ type: 'private', message: msg.message, ...sender, sender_rid: null });

  if (isCid(msg.to)) {
    if (!(await ctx.store.getConnection(msg.to))) {
      throw new RequestError('RECIPIENT_NOT_FOUND', `No open connection "${msg.to}".`);
    }
    const delivered = await ctx.delivery.send([msg.to], privateFrame(), ack);
    if (delivered === 0) throw new RequestError('RECIPIENT_NOT_FOUND', `No open connection "${msg.to}".`);
    return { delivered };
  }

  const cids = await ctx.store.userConnections(msg.to);
  if (cids.length === 0) {
    if (await ctx.store.groupExists(msg.to)) {
      throw new RequestError('INVALID_REQUEST', `User has not joined to the recipient group. Run joinRealtime({ group: "${msg.to}" })`);
    }
    if (msg.notification && ctx.push) return pushForOfflinePost(ctx, msg.to, msg.notification);
    throw new RequestError('RECIPIENT_NOT_FOUND', `User "${msg.to}" has no open connection.`);
  }
  const delivered = await ctx.delivery.send(cids, privateFrame(), ack);
  if (msg.notification?.config?.always && ctx.push && delivered > 0) pushAlso(ctx, msg.to, msg.notification);
  if (delivered === 0) throw new RequestError('RECIPIENT_NOT_FOUND', `User "${msg.to}" has no open connection.`);
  return { delivered };
};
