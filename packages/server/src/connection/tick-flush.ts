/**
 * The end of write batching (connection.ts): every socket corked during an event-loop tick is
 * uncorked by one `process.nextTick` for all of them, not one per socket. A group post corks one
 * socket per local member; a tick object each was most of what batching itself cost.
 */
export interface Corked {
  flushWrites(): void;
}

let corked: Corked[] = [];

function flushAll(): void {
  // A fresh list first: should a flush throw, later ticks still get theirs scheduled.
  const batch = corked;
  corked = [];
  for (let i = 0; i < batch.length; i++) batch[i]!.flushWrites();
}

/** `connection` was corked during this tick: uncork it at its end, with the others. */
export function flushAtTickEnd(connection: Corked): void {
  if (corked.push(connection) === 1) process.nextTick(flushAll);
}
