import type { ServerContext } from '../context.js';
import { buildFrame } from '../state/delivery.js';
import type { ConnectionRecord } from '../state/store.js';
import { notifyGroup } from './notices.js';

/**
 * A connection is gone: forget it, tell its group (USER_DISCONNECTED) and hang
 * up its calls (peer_gone to the other side, or cancelled to a ringing callee).
 * In a cluster this also runs on a surviving node for the connections of a dead
 * one; `fallback` is what the node remembers of a connection that closed while
 * the store was unreachable (used when the store no longer has it). With resume on,
 * the cid's hold is released first: it cannot be resumed any more, and the notices
 * below are not buffered for it.
 */
export async function handleDisconnect(ctx: ServerContext, cid: string, fallback?: ConnectionRecord): Promise<void> {
  // A hold left behind (Redis unreachable) expires with its TTL once away, or is released by the next disconnect.
  ctx.resume?.local.delete(cid);
  await ctx.resume?.replay.release(cid).catch(() => undefined);
  const record = (await ctx.store.removeConnection(cid)) ?? fallback ?? null;
  if (!record) return;
  if (record.group !== null) await notifyGroup(ctx, record, 'USER_DISCONNECTED', record.group);
  for (const notice of await ctx.calls.onDisconnect(record)) {
    await ctx.delivery.send([notice.to], buildFrame(notice.message));
  }
}
