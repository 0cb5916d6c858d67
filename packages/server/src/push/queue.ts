/**
 * Push delivery off the request path: a bounded queue worked by `concurrency` senders. A push
 * that may succeed later (network error, timeout, 429, 5xx) waits retryBaseMs · 2^attempt (±20 %
 * jitter, at most 10 minutes) and goes round again, up to `retries` times; while it waits it
 * still counts against `queueSize`, so a push service that is down cannot grow memory without
 * bound: new pushes are dropped (and counted) instead.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import type { SendOutcome } from './send.js';
import type { StoredSubscription } from './types.js';

export interface PushJob {
  userId: string;
  subscription: StoredSubscription;
  payload: string;
  attempt: number;
}

export interface QueueSettings {
  queueSize: number;
  concurrency: number;
  retries: number;
  retryBaseMs: number;
}

export interface QueueDeps {
  send(subscription: StoredSubscription, payload: string): Promise<{ outcome: SendOutcome; status: number | null }>;
  /** The push service says the subscription no longer exists (404/410). */
  gone(job: PushJob): Promise<void>;
  registry: Registry;
  log: Logger;
}

const MAX_DELAY_MS = 10 * 60_000;

export function createPushMetrics(registry: Registry, length: () => number) {
  return {
    sent: new Counter({ name: 'switchboard_push_sent_total', help: 'Pushes a push service accepted (2xx).', registers: [registry] }),
    failed: new Counter({
      name: 'switchboard_push_failed_total',
      help: 'Pushes that were not delivered, by reason: gone (404/410, the subscription is removed), rejected (another 4xx), gave_up (retries spent).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    dropped: new Counter({
      name: 'switchboard_push_dropped_total',
      help: 'Pushes never attempted, by reason: queue_full, rate_limited (push.perUserPerMinute), shutdown.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    retries: new Counter({ name: 'switchboard_push_retries_total', help: 'Push attempts scheduled again after a retryable failure.', registers: [registry] }),
    queue: new Gauge({
      name: 'switchboard_push_queue_length',
      help: 'Pushes waiting, being retried or in flight on this node.',
      registers: [registry],
      collect() {
        this.set(length());
      },
    }),
  };
}

export type PushMetrics = ReturnType<typeof createPushMetrics>;

export class PushQueue {
  private readonly ready: PushJob[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private active = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  readonly metrics: PushMetrics;

  constructor(
    private readonly settings: QueueSettings,
    private readonly deps: QueueDeps,
  ) {
    this.metrics = createPushMetrics(deps.registry, () => this.length);
  }

  /** Waiting, waiting for a retry, or in flight. */
  get length(): number {
    return this.ready.length + this.timers.size + this.active;
  }

  /** Queues what fits; returns how many were queued (the rest are dropped and counted). */
  add(jobs: PushJob[]): number {
    if (this.closed) {
      this.metrics.dropped.inc({ reason: 'shutdown' }, jobs.length);
      return 0;
    }
    const room = Math.max(0, this.settings.queueSize - this.length);
    const taken = jobs.slice(0, room);
    if (taken.length < jobs.length) this.metrics.dropped.inc({ reason: 'queue_full' }, jobs.length - taken.length);
    this.ready.push(...taken);
    this.pump();
    return taken.length;
  }

  idle(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops what waits (counted as shutdown); pushes in flight finish on their own. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.metrics.dropped.inc({ reason: 'shutdown' }, this.ready.length + this.timers.size);
    this.timers.clear();
    this.ready.length = 0;
    this.settle();
  }

  private pump(): void {
    while (this.active < this.settings.concurrency && this.ready.length > 0) {
      const job = this.ready.shift()!;
      this.active += 1;
      void this.run(job).finally(() => {
        this.active -= 1;
        this.pump();
        this.settle();
      });
    }
  }

  private async run(job: PushJob): Promise<void> {
    const { outcome, status } = await this.deps.send(job.subscription, job.payload).catch((err: unknown) => {
      this.deps.log.warn({ err: (err as Error).message }, 'push: could not send');
      return { outcome: 'retry' as const, status: null };
    });
    const { metrics } = this;
    if (outcome === 'sent') metrics.sent.inc();
    else if (outcome === 'gone') {
      metrics.failed.inc({ reason: 'gone' });
      await this.deps.gone(job).catch((err: unknown) => this.deps.log.warn({ err: (err as Error).message }, 'push: could not remove a gone subscription'));
    } else if (outcome === 'failed') {
      metrics.failed.inc({ reason: 'rejected' });
      this.deps.log.warn({ status, host: hostOf(job.subscription.endpoint) }, 'push: the push service refused a push');
    } else if (job.attempt >= this.settings.retries || this.closed) {
      metrics.failed.inc({ reason: 'gave_up' });
      this.deps.log.warn({ status, host: hostOf(job.subscription.endpoint), attempts: job.attempt + 1 }, 'push: gave up');
    } else {
      metrics.retries.inc();
      const delay = Math.min(MAX_DELAY_MS, this.settings.retryBaseMs * 2 ** job.attempt) * (0.8 + 0.4 * Math.random());
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.ready.push({ ...job, attempt: job.attempt + 1 });
        this.pump();
      }, delay);
      timer.unref();
      this.timers.add(timer);
    }
  }

  private settle(): void {
    if (this.length > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

/** Endpoints carry per-subscription secrets in their path: logs get the host only. */
function hostOf(endpoint: string): string {
  return URL.canParse(endpoint) ? new URL(endpoint).host : '?';
}
