/**
 * Application heartbeat: a `ping` every `intervalMs`; the server counts as dead
 * when nothing at all (pong or any other frame) arrived for two intervals.
 */
export class Heartbeat {
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private lastSeen = 0;
  private intervalMs = 0;

  constructor(
    private readonly sendPing: () => void,
    private readonly onDead: (silentForMs: number) => void,
  ) {}

  start(intervalMs: number): void {
    this.stop();
    if (!(intervalMs > 0)) return;
    this.intervalMs = intervalMs;
    this.lastSeen = Date.now();
    this.pingTimer = setInterval(() => this.sendPing(), intervalMs);
    this.arm();
  }

  /** Something arrived from the server. */
  touch(): void {
    this.lastSeen = Date.now();
  }

  stop(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.watchdog);
    this.pingTimer = undefined;
    this.watchdog = undefined;
  }

  private arm(): void {
    const deadline = this.lastSeen + 2 * this.intervalMs;
    this.watchdog = setTimeout(() => this.check(), Math.max(0, deadline - Date.now()));
  }

  private check(): void {
    const silent = Date.now() - this.lastSeen;
    if (silent >= 2 * this.intervalMs) {
      this.stop();
      this.onDead(silent);
      return;
    }
    this.arm();
  }
}
