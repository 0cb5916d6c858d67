/**
 * ICE restart policy, kept apart from the peer connection so it can be tested with
 * fake timers:
 * - `disconnected`: wait `graceMs` (a transient blip often recovers by itself), then restart;
 * - `failed`: restart at once;
 * - an attempt (the first connection or a restart) that is not `connected` within
 *   `attemptTimeoutMs` counts as failed too (a restart offer may never arrive);
 * - after `maxRestarts` failed restarts, give up (`fail()`): the call ends with RTC_ICE_FAILED.
 * Reaching `connected` resets the count.
 */
export interface IceRestartOptions {
  graceMs: number;
  maxRestarts: number;
  attemptTimeoutMs: number;
}

export type Health = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export class IceRestartPolicy {
  private restarts = 0;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private attemptTimer: ReturnType<typeof setTimeout> | undefined;
  private health: Health = 'new';
  private disposed = false;

  constructor(
    private readonly options: IceRestartOptions,
    private readonly actions: { restart: (attempt: number) => void; fail: (restarts: number) => void },
    restartsSoFar = 0,
  ) {
    this.restarts = restartsSoFar;
    this.armAttempt();
  }

  get restartCount(): number {
    return this.restarts;
  }

  update(health: Health): void {
    if (this.disposed || health === this.health) return;
    this.health = health;
    switch (health) {
      case 'connected':
        this.clearTimers();
        this.restarts = 0;
        break;
      case 'disconnected':
        if (this.graceTimer === undefined && this.attemptTimer === undefined) {
          this.graceTimer = setTimeout(() => {
            this.graceTimer = undefined;
            if (this.health !== 'connected') this.attempt();
          }, this.options.graceMs);
        }
        break;
      case 'failed':
        this.attempt();
        break;
      case 'closed':
        this.dispose();
        break;
      default:
        break;
    }
  }

  dispose(): void {
    this.disposed = true;
    this.clearTimers();
  }

  private attempt(): void {
    if (this.disposed) return;
    this.clearTimers();
    if (this.restarts >= this.options.maxRestarts) {
      this.dispose();
      this.actions.fail(this.restarts);
      return;
    }
    this.restarts += 1;
    this.armAttempt();
    this.actions.restart(this.restarts);
  }

  private armAttempt(): void {
    this.attemptTimer = setTimeout(() => {
      this.attemptTimer = undefined;
      if (this.health !== 'connected') this.attempt();
    }, this.options.attemptTimeoutMs);
  }

  private clearTimers(): void {
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    if (this.attemptTimer !== undefined) clearTimeout(this.attemptTimer);
    this.graceTimer = undefined;
    this.attemptTimer = undefined;
  }
}
