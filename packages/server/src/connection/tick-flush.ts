/**
 * The end of write batching (connection.ts): every socket corked during an event-loop tick is
 * uncorked by one `process.nextTick` for all of them, not one per socket. A group post corks one
 * socket per local member; a tick object each was most of what batching itself cost. The two
 * lists take turns, so a tick allocates nothing. A socket whose frames may all wait (a relayed
 * signal's ack) is held a little longer instead, by one timer per window (flushWithin).
 */
export interface Corked {
  flushWrites(): void;
}

/** A socket's cork: none, until this tick's end (flushAtTickEnd), or held for frames that may wait (flushWithin). */
export type Cork = typeof UNCORKED | typeof UNTIL_TICK_END | typeof HELD;
export const UNCORKED = 0;
export const UNTIL_TICK_END = 1;
export const HELD = 2;

/** A connection whose socket's cork this module keeps. */
export interface Corkable extends Corked {
  corked: Cork;
}

/**
 * Corks `socket` for `owner` until this tick's end, or, for a frame that may wait on a socket
 * with nothing else to send (`holdMs` > 0), within `holdMs`.
 */
export function corkFor(owner: Corkable, socket: { cork(): void }, holdMs: number): void {
  if (owner.corked === UNTIL_TICK_END) return;
  if (owner.corked === UNCORKED) socket.cork();
  else if (holdMs > 0) return; // held already
  if (holdMs > 0) {
    owner.corked = HELD;
    flushWithin(owner, holdMs);
  } else {
    owner.corked = UNTIL_TICK_END;
    flushAtTickEnd(owner);
  }
}

let corked: Corked[] = [];
let spare: Corked[] = [];

function flushAll(): void {
  const batch = corked;
  corked = spare; // a socket corked by a flush below waits for the next tick's
  spare = batch;
  flushEach(batch);
  batch.length = 0;
}

function flushEach(batch: Corked[]): void {
  let failure: unknown = null;
  for (let i = 0; i < batch.length; i++) {
    try {
      batch[i]!.flushWrites();
    } catch (err) {
      failure ??= err; // the other sockets are still uncorked
    }
  }
  if (failure !== null) throw failure;
}

/** `connection` was corked during this tick: uncork it at its end, with the others. */
export function flushAtTickEnd(connection: Corked): void {
  if (corked.push(connection) === 1) process.nextTick(flushAll);
}

/** Sockets held corked (frames that may wait), by hold time: one timer per window, not per socket. */
const holds = new Map<number, Corked[]>();

/**
 * `connection` was corked for a frame that may wait: uncork it within `delayMs` (sooner if a
 * frame that may not wait comes first, which moves it to the tick's end). Sockets held in the
 * same window share one timer, so a socket held late in a window waits less than `delayMs`.
 */
export function flushWithin(connection: Corked, delayMs: number): void {
  let batch = holds.get(delayMs);
  if (batch === undefined) {
    const sockets: Corked[] = (batch = []);
    holds.set(delayMs, sockets);
    setTimeout(() => {
      holds.delete(delayMs);
      flushEach(sockets);
    }, delayMs).unref();
  }
  batch.push(connection);
}
