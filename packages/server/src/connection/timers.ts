/**
 * A connection's deadlines, on one process-wide timer wheel (timer-wheel.ts): the token's expiry,
 * the TURN credentials' refresh, and the heartbeat sweeps (heartbeat.ts). No connection owns a
 * Node timer while it is idle.
 */
import { TimerWheel } from './timer-wheel.js';

/** The wheel every server in this process schedules its connection deadlines on. */
export const connectionWheel = new TimerWheel();

/** A connection whose token expires: it closes with TOKEN_EXPIRED (4004). */
export interface Expiring {
  closeWith(name: 'TOKEN_EXPIRED', reason: string): void;
}

/** A connection that receives fresh TURN credentials: `refreshIce()` pushes them and returns their expiry (Unix ms). */
export interface IceRefreshing {
  refreshIce(): number | null;
}

/** Token expiries round up to a quarter second: tokens carry whole seconds anyway. */
const tokenExpiry = connectionWheel.lane<Expiring>((conn) => conn.closeWith('TOKEN_EXPIRED', 'Token expired.'), 250);

/** Refreshes are due at 80% of the credentials' lifetime; rounding by 100 ms keeps them well before the expiry. */
const iceRefresh = connectionWheel.lane<IceRefreshing>((conn) => scheduleIceRefresh(conn, conn.refreshIce()), 100);

/** Closes `conn` with TOKEN_EXPIRED once `expiresAt` (Unix ms) passed. */
export function expireTokenAt(conn: Expiring, expiresAt: number): void {
  tokenExpiry.set(conn, expiresAt);
}

/** Pushes fresh TURN credentials at 80% of the remaining lifetime of those expiring at `expiresAt` (null: none expire). */
export function scheduleIceRefresh(conn: IceRefreshing, expiresAt: number | null): void {
  if (expiresAt === null) return;
  const now = connectionWheel.now;
  iceRefresh.set(conn, now + Math.max(0, Math.floor((expiresAt - now) * 0.8)));
}

/** The connection closed: none of its deadlines fire any more. */
export function cancelDeadlines(conn: Expiring | IceRefreshing): void {
  tokenExpiry.delete(conn as Expiring);
  iceRefresh.delete(conn as IceRefreshing);
}
