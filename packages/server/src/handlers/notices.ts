/** Group notices (Skapi's texts and codes), sent once per connection, the subject included. */
import type { NoticeCode, UserInfo } from '@switchboard/protocol';
import type { ServerContext } from '../context.js';
import { buildFrame } from '../state/delivery.js';
import { sendToGroup } from '../state/group-send.js';

const TEXT: Record<NoticeCode, string> = {
  USER_JOINED: 'has joined the message group.',
  USER_LEFT: 'has left the message group.',
  USER_DISCONNECTED: 'has been disconnected.',
};

export function noticeText(code: NoticeCode, userId: string): string {
  return `"${userId}" ${TEXT[code]}`;
}

/** Sends a notice about `subject` to every member of `group`, plus `extra` connections (e.g. one that just left). */
export async function notifyGroup(
  ctx: ServerContext,
  subject: { cid: string; user: UserInfo },
  code: NoticeCode,
  group: string,
  extra: readonly string[] = [],
): Promise<number> {
  const frame = buildFrame({
    type: 'notice',
    code,
    message: noticeText(code, subject.user.user_id),
    sender: subject.user.user_id,
    sender_cid: subject.cid,
    sender_rid: group,
  });
  return sendToGroup(ctx, group, frame, extra);
}
