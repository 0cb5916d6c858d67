/**
 * node-datachannel keeps the process alive while its native thread pool exists, even after
 * every peer connection closed. The Node platform counts its live peer connections and, when
 * the last one closes, releases the pool with `cleanup()` (after a short delay, so closes in
 * flight reach the wire and a call that starts right away does not pay for a restart).
 * libdatachannel starts the pool again for the next peer connection.
 *
 * `cleanup()` is process-wide: code that also uses node-datachannel directly, outside the SDK,
 * should pass `autoCleanup: false` and call `releaseNodeWebRTC()` itself when done.
 */
import { cleanup } from 'node-datachannel';

const CLEANUP_DELAY_MS = 100;
let live = 0;
/** A peer connection opened with autoCleanup: false since the last release: leave the pool alone. */
let vetoed = false;
let timer: ReturnType<typeof setTimeout> | undefined;

export function peerOpened(autoCleanup: boolean): void {
  live += 1;
  if (!autoCleanup) vetoed = true;
  if (timer !== undefined) {
    clearTimeout(timer);
    timer = undefined;
  }
}

export function peerClosed(): void {
  live = Math.max(0, live - 1);
  if (live > 0 || vetoed) return;
  timer ??= setTimeout(() => {
    timer = undefined;
    if (live === 0) releaseNodeWebRTC();
  }, CLEANUP_DELAY_MS);
}

/** How many SDK peer connections are open in this process. */
export function livePeerConnections(): number {
  return live;
}

/** Releases node-datachannel's native threads now (closing whatever it still holds). */
export function releaseNodeWebRTC(): void {
  vetoed = false;
  cleanup();
}
