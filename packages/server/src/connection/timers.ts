/** A connection's long timers: the token's expiry and the TURN credentials' refresh. */

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `expire` once `expiresAt` (Unix ms) passed; timers longer than setTimeout allows are chained. */
export function tokenExpiryTimer(expiresAt: number, expire: () => void, timers: Set<NodeJS.Timeout>): NodeJS.Timeout {
  const timer = setTimeout(
    () => {
      timers.delete(timer);
      if (Date.now() >= expiresAt) expire();
      else timers.add(tokenExpiryTimer(expiresAt, expire, timers));
    },
    Math.max(0, Math.min(expiresAt - Date.now(), MAX_TIMER_MS)),
  );
  return timer;
}

/** Pushes fresh TURN credentials (`push` returns their expiry) at 80% of the current ones' remaining lifetime. */
export function iceRefresh(expiresAt: number | null, timers: Set<NodeJS.Timeout>, push: () => number | null): void {
  if (expiresAt === null) return;
  const delay = Math.max(0, Math.floor((expiresAt - Date.now()) * 0.8));
  const timer = setTimeout(
    () => {
      timers.delete(timer);
      iceRefresh(push(), timers, push);
    },
    Math.min(delay, MAX_TIMER_MS),
  );
  timers.add(timer);
}
