/**
 * The end of write batching (connection.ts): every socket corked during an event-loop tick is
 * uncorked by one `process.nextTick` for all of them, not one per socket. A group post corks one
 * socket per local member; a tick object each was most of what batching itself cost. The two
 * lists take turns, so a tick allocates nothing.
 */
export interface Corked {
  flushWrites(): void;
}

let corked: Corked[] = [];
let spare: Corked[] = [];

function flushAll(): void {
  const batch = corked;
  corked = spare; // a socket corked by a flush below waits for the next tick's
  spare = batch;
  let failure: unknown = null;
  for (let i = 0; i < batch.length; i++) {
    try {
      batch[i]!.flushWrites();
    } catch (err) {
      failure ??= err; // the other sockets are still uncorked
    }
  }
  batch.length = 0;
  if (failure !== null) throw failure;
}

/** `connection` was corked during this tick: uncork it at its end, with the others. */
export function flushAtTickEnd(connection: Corked): void {
  if (corked.push(connection) === 1) process.nextTick(flushAll);
}
