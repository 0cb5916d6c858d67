/**
 * ws-level heartbeat: every interval each connection that showed no sign of
 * life (frame or pong) since the previous sweep is terminated; the others get
 * a ping. A silent peer is therefore dropped within two intervals.
 *
 * One sweep over all of a server's connections per interval, on the connection timer wheel
 * (timers.ts): no timer per connection, and none at all while the server has no connection.
 * A sweep goes through SWEEP_BATCH connections per turn of the event loop: a ping is a write,
 * and a thousand of them in one go held up every message for tens of ms.
 */
import type { Lane, TimerWheel } from './timer-wheel.js';
import { connectionWheel } from './timers.js';

export interface Beating {
  alive: boolean;
  ping(): void;
  terminate(why: string): void;
}

/** Connections pinged (or dropped) per turn of the event loop during a sweep. */
export const SWEEP_BATCH = 64;

/** One lane of sweeps per wheel, shared by every Heartbeat on it. */
const lanes = new WeakMap<TimerWheel, Lane<Heartbeat>>();
function sweepsOn(wheel: TimerWheel): Lane<Heartbeat> {
  let lane = lanes.get(wheel);
  if (lane === undefined) {
    lane = wheel.lane((heartbeat) => heartbeat.sweep(), 1);
    lanes.set(wheel, lane);
  }
  return lane;
}

export class Heartbeat {
  private readonly members = new Set<Beating>();
  /** When the next sweep is due (wheel time); null while stopped. */
  private next: number | null = null;
  /** Counts sweeps: a sweep still going through its batches gives way to a newer one. */
  private sweeps = 0;

  private readonly lane: Lane<Heartbeat>;

  constructor(
    private readonly intervalMs: number,
    private readonly wheel: TimerWheel = connectionWheel,
  ) {
    this.lane = sweepsOn(wheel);
  }

  add(member: Beating): void {
    this.members.add(member);
    if (this.next === null) this.schedule(this.wheel.now + this.intervalMs);
  }

  remove(member: Beating): void {
    this.members.delete(member);
    if (this.members.size === 0) this.stop();
  }

  stop(): void {
    this.lane.delete(this);
    this.next = null;
  }

  get size(): number {
    return this.members.size;
  }

  /** @internal Called by the wheel at each interval. */
  sweep(): void {
    // The next sweep is a full interval after this one, even when this one ran late: every peer
    // pinged now gets the whole interval to answer (a sweep catching up on a late one would drop
    // healthy peers whose pong had no time to arrive).
    this.schedule(this.wheel.now + this.intervalMs);
    this.sweepOn(this.members.values(), ++this.sweeps);
  }

  /** One batch of the sweep (a Set's iterator skips members removed meanwhile), then the next one on a later turn. */
  private sweepOn(members: Iterator<Beating>, sweep: number): void {
    if (sweep !== this.sweeps || this.next === null) return;
    for (let n = 0; n < SWEEP_BATCH; n++) {
      const next = members.next();
      if (next.done === true) {
        if (this.members.size === 0) this.stop();
        return;
      }
      const member = next.value;
      if (!member.alive) {
        this.members.delete(member);
        member.terminate('heartbeat timeout');
        continue;
      }
      member.alive = false;
      member.ping();
    }
    setImmediate(() => this.sweepOn(members, sweep)).unref();
  }

  private schedule(at: number): void {
    this.next = at;
    this.lane.set(this, at);
  }
}
