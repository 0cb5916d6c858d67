/**
 * Reconnect delays: exponential with "full jitter" (AWS architecture blog,
 * "Exponential Backoff And Jitter"): delay = random(0, min(max, base · 2^(attempt-1))).
 * Full jitter spreads a thundering herd of clients after a server restart.
 */
export interface BackoffPolicy {
  /** Attempts before giving up; Infinity never gives up. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { maxAttempts: Infinity, baseDelayMs: 500, maxDelayMs: 30_000 };

/**
 * While the server holds the session for a resume (30 s by default), delays stay under this: a
 * longer one could land after the window and cost the cid, the group's silence and the missed
 * frames for nothing. Full jitter below it still spreads a node's clients after a restart.
 */
export const RESUMABLE_MAX_DELAY_MS = 2_000;

/** The upper bound of the delay before attempt `attempt` (1-based). */
export function backoffCeiling(attempt: number, policy: Pick<BackoffPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 52);
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
}

/** The delay before attempt `attempt` (1-based), with full jitter. */
export function backoffDelay(attempt: number, policy: Pick<BackoffPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(attempt, policy));
}

/** Counts attempts; `reset()` after a successful connection. */
export class Backoff {
  private attempts = 0;

  constructor(
    readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  get attempt(): number {
    return this.attempts;
  }

  /**
   * The next attempt number and its delay, or null when the attempts are used up. `maxDelayMs`
   * lowers the policy's ceiling for this attempt (a session that can still be resumed).
   */
  next(maxDelayMs = this.policy.maxDelayMs): { attempt: number; delayMs: number } | null {
    if (this.attempts >= this.policy.maxAttempts) return null;
    this.attempts += 1;
    const policy = { ...this.policy, maxDelayMs: Math.min(this.policy.maxDelayMs, maxDelayMs) };
    return { attempt: this.attempts, delayMs: backoffDelay(this.attempts, policy, this.random) };
  }

  reset(): void {
    this.attempts = 0;
  }
}

/** Normalises `options.reconnect` into a policy (`false` → no attempts). */
export function backoffPolicy(option: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number } | false | undefined): BackoffPolicy {
  if (option === false) return { ...DEFAULT_BACKOFF, maxAttempts: 0 };
  const policy = { ...DEFAULT_BACKOFF, ...stripUndefined(option ?? {}) };
  if (!(policy.maxAttempts >= 0)) policy.maxAttempts = DEFAULT_BACKOFF.maxAttempts;
  if (!(policy.baseDelayMs >= 0)) policy.baseDelayMs = DEFAULT_BACKOFF.baseDelayMs;
  if (!(policy.maxDelayMs >= policy.baseDelayMs)) policy.maxDelayMs = Math.max(policy.baseDelayMs, DEFAULT_BACKOFF.maxDelayMs);
  return policy;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}
