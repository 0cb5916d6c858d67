import type { AckSlot, Delivery, OutboundFrame } from './delivery.js';
import type { Store } from './store.js';

/**
 * Sends `frame` to every member of `group` (and the `extra` connections), once each; resolves
 * with how many accepted it. A cluster delivery routes the frame once per node that holds
 * members; the single-node path asks the store for the members and sends to each. `ack`: the
 * request this post answers, whose ack a cluster delivery may send itself (AckSlot).
 */
export async function sendToGroup(
  ctx: { store: Pick<Store, 'groupMembers'>; delivery: Delivery },
  group: string,
  frame: OutboundFrame,
  extra: readonly string[] = [],
  ack?: AckSlot,
): Promise<number> {
  if (ctx.delivery.sendToGroup) return ctx.delivery.sendToGroup(group, frame, extra, ack);
  const members = new Set(await ctx.store.groupMembers(group));
  for (const cid of extra) members.add(cid);
  return ctx.delivery.send([...members], frame);
}
