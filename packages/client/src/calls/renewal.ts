/**
 * Renewal: the ICE restart of a call whose peer connection cannot restart ICE in place.
 *
 * libdatachannel (the Node SDK's stack) cannot make or accept new ICE credentials, so when
 * either side of a call runs on it (each side says so over the control channel), a restart
 * replaces the peer connection instead, inside the same call: no new `rtc:incoming`, the
 * same `channels` record (each side reopens the channels it had opened, under the same
 * labels and options), `target` reads the new peer connection, tracks are added again.
 *
 * Signals of a renewed peer connection carry its generation (`pc`): an offer of a newer
 * generation replaces ours (the peer renewed first), signals of older ones are dropped.
 * The impolite side renews at once; the polite side waits a moment for the peer's offer,
 * so both sides rarely renew together (and when they do, perfect negotiation in the new
 * peer connection settles the collision as for any other offer). The restart budget
 * (`maxIceRestarts`) counts renewals like restarts, so a path that stays down still ends
 * the call with RTC_ICE_FAILED.
 */
import type { PeerSignal } from '../rtc/index.js';

/** How long the polite side waits for the peer's renewal offer before renewing itself. */
export const POLITE_RENEWAL_DELAY_MS = 1_000;

export type SignalRoute = 'current' | 'stale' | 'newer';

export class Renewal {
  /** The generation of the call's current peer connection. */
  generation = 0;
  private deferred: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly renew: (generation: number, restarts: number) => void) {}

  /** The current peer connection asked for a renewal (its restart policy fired). */
  request(polite: boolean, restarts: number): void {
    if (!polite) {
      this.renew(this.generation + 1, restarts);
      return;
    }
    if (this.deferred !== undefined) return;
    const waitedFor = this.generation;
    this.deferred = setTimeout(() => {
      this.deferred = undefined;
      if (this.generation === waitedFor) this.renew(this.generation + 1, restarts);
    }, POLITE_RENEWAL_DELAY_MS);
  }

  /** Where a description or candidate from the peer goes. */
  route(signal: PeerSignal): SignalRoute {
    const generation = signal.pc ?? 0;
    if (generation === this.generation) return 'current';
    if (generation > this.generation && signal.kind === 'description' && signal.description.type === 'offer') return 'newer';
    return 'stale';
  }

  /** A peer connection of `generation` replaced the previous one. */
  advanced(generation: number): void {
    this.generation = generation;
    clearTimeout(this.deferred);
    this.deferred = undefined;
  }

  dispose(): void {
    clearTimeout(this.deferred);
    this.deferred = undefined;
  }
}
