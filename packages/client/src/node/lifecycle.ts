/**
 * node-datachannel keeps the process alive while its native thread pool exists, even after
 * every peer connection closed. The Node platform counts its live peer connections and, when
 * the last one closes, releases the pool with `cleanup()` (after a short delay, so closes in
 * flight reach the wire and a call that starts right away does not pay for a restart).
 * libdatachannel starts the pool again for the next peer connection.
 *
 * It also waits for every data channel of those connections to report `close` first (up to
 * CHANNEL_CLOSE_WAIT_MS): node-datachannel 0.33.4's cleanup() can deadlock the process when a
 * channel's native close callback is still on its way (seen on a loaded machine, the main thread
 * blocked in DataChannelWrapper::CleanupAll releasing that channel's callback).
 *
 * `cleanup()` is process-wide: code that also uses node-datachannel directly, outside the SDK,
 * should pass `autoCleanup: false` and call `releaseNodeWebRTC()` itself when done.
 */
import { cleanup } from 'node-datachannel';

const CLEANUP_DELAY_MS = 100;
const CHANNEL_CLOSE_WAIT_MS = 5_000;
let live = 0;
/** Data channels of SDK peer connections that have not reported `close` yet. */
let channels = 0;
/** A peer connection opened with autoCleanup: false since the last release: leave the pool alone. */
let vetoed = false;
let timer: ReturnType<typeof setTimeout> | undefined;
/** When the release stops waiting for channels to close (set when the last peer connection closed). */
let releaseBy = 0;

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
  releaseBy = Date.now() + CHANNEL_CLOSE_WAIT_MS;
  scheduleRelease();
}

/** Counts a data channel until it reports `close` (node-datachannel's polyfill fires it once). */
export function trackChannel(channel: EventTarget): void {
  channels += 1;
  channel.addEventListener(
    'close',
    () => {
      channels = Math.max(0, channels - 1);
      scheduleRelease();
    },
    { once: true },
  );
}

function scheduleRelease(): void {
  if (live > 0 || vetoed) return;
  timer ??= setTimeout(() => {
    timer = undefined;
    if (live > 0) return;
    if (channels > 0 && Date.now() < releaseBy) scheduleRelease();
    else releaseNodeWebRTC();
  }, CLEANUP_DELAY_MS);
}

/** How many SDK peer connections are open in this process. */
export function livePeerConnections(): number {
  return live;
}

/** Releases node-datachannel's native threads now (closing whatever it still holds). */
export function releaseNodeWebRTC(): void {
  vetoed = false;
  channels = 0;
  cleanup();
}
