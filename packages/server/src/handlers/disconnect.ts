import type { ServerContext } from '../context.js';
import { buildFrame } from '../state/delivery.js';
import { notifyGroup } from './notices.js';

/**
 * A connection is gone: forget it, tell its group (USER_DISCONNECTED) and hang
 * up its calls (peer_gone to the other side, or cancelled to a ringing callee).
 */
export async function handleDisconnect(ctx: ServerContext, cid: string): Promise<void> {
  const record = await ctx.store.removeConnection(cid);
  if (!record) return;
  if (record.group !== null) await notifyGroup(ctx, record, 'USER_DISCONNECTED', record.group);
  for (const notice of await ctx.calls.onDisconnect(record)) {
    await ctx.delivery.send([notice.to], buildFrame(notice.message));
  }
}
