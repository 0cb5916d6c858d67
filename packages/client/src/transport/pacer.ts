/** Share of the server's announced rate and burst the client allows itself (see `Pacer`). */
export const PACE_RATE_SHARE = 0.9;
export const PACE_BURST_SHARE = 0.8;

/**
 * Client-side token bucket, slightly under the server's: the server counts frames when they
 * arrive, and the network may bunch frames sent apart, so staying under its rate and its burst
 * leaves room for that jitter. `take()` says whether a frame may go now; when it may not, the
 * pacer calls `wake` once a token is back, and the caller tries again.
 */
export class Pacer {
  private rate = 0;
  private burst = 1;
  private tokens = 0;
  private last = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly wake: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new connection: the bucket follows its announced limits and starts full, as the server's does. */
  reset(limits: { messagesPerSecond: number; messageBurst: number }): void {
    this.stop();
    this.rate = limits.messagesPerSecond * PACE_RATE_SHARE;
    this.burst = Math.max(1, Math.floor(limits.messageBurst * PACE_BURST_SHARE));
    this.tokens = this.burst;
    this.last = this.now();
  }

  take(): boolean {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.schedule();
    return false;
  }

  /** The server said RATE_LIMITED anyway: start from an empty bucket. */
  empty(): void {
    this.refill();
    this.tokens = Math.min(this.tokens, 0);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
  }

  private schedule(): void {
    if (this.timer !== undefined || !(this.rate > 0)) return;
    const delay = Math.ceil(((1 - this.tokens) / this.rate) * 1000);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.wake();
      },
      Math.max(1, delay),
    );
  }
}
