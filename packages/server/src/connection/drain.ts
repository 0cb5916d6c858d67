import { WebSocket } from 'ws';

/** How often a draining socket is checked: the wait is short and rare (slow consumers only). */
const POLL_MS = 20;

/**
 * Calls `done(true)` once nothing is left unsent on `ws` (frames, corked bytes), or
 * `done(false)` when that did not happen within `maxMs`. Not called if the socket closes first.
 * Polls rather than waiting for 'drain', which only fires after a write was refused by the
 * stream's high-water mark. Returns the timer, for the caller to clear on close.
 */
export function whenDrained(ws: WebSocket, maxMs: number, done: (drained: boolean) => void): NodeJS.Timeout {
  const deadline = Date.now() + maxMs;
  const timer = setInterval(() => {
    if (ws.readyState !== WebSocket.OPEN) clearInterval(timer);
    else if (ws.bufferedAmount === 0) {
      clearInterval(timer);
      done(true);
    } else if (Date.now() >= deadline) {
      clearInterval(timer);
      done(false);
    }
  }, POLL_MS);
  return timer;
}
