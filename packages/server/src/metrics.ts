/** Prometheus metrics, one registry per server instance (several servers may share a process). */
import { Counter, Gauge, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  connections: Gauge;
  groups: Gauge;
  messagesIn: FrameTally;
  messagesOut: FrameTally;
  errors: Counter<'code'>;
  /** Resume attempts by outcome: `resumed` or the refusal reason (RESUME_REASONS). */
  resumes: Counter<'outcome'>;
  /** Frames replayed to resumed connections. */
  replayedFrames: Counter;
}

/**
 * Frames counted by type on the per-frame path as plain numbers, handed to their counter when it
 * is scraped: prom-client builds and looks up a key for the label object on every `inc`, a cost
 * every frame in and every recipient's copy out would pay.
 */
export class FrameTally {
  private readonly pending = new Map<string, number>();

  count(type: string): void {
    this.pending.set(type, (this.pending.get(type) ?? 0) + 1);
  }

  /** Adds what was counted since the last scrape to `counter`. */
  drainInto(counter: Counter<'type'>): void {
    for (const [type, n] of this.pending) counter.inc({ type }, n);
    this.pending.clear();
  }
}

export function createMetrics(groupCount: () => Promise<number>): Metrics {
  const registry = new Registry();
  const connections = new Gauge({
    name: 'switchboard_connections',
    help: 'Open realtime connections on this node.',
    registers: [registry],
  });
  const groups = new Gauge({
    name: 'switchboard_groups',
    help: 'Groups with at least one member.',
    registers: [registry],
    async collect() {
      // The shared store may be unreachable (Redis down): keep the last value so /metrics still
      // answers and shows switchboard_redis_up 0.
      try {
        this.set(await groupCount());
      } catch {
        // last value stays
      }
    },
  });
  const messagesIn = new FrameTally();
  const messagesOut = new FrameTally();
  new Counter({
    name: 'switchboard_messages_in_total',
    help: 'Frames received from clients, by type (invalid frames count as "invalid").',
    labelNames: ['type'] as const,
    registers: [registry],
    collect() {
      messagesIn.drainInto(this);
    },
  });
  new Counter({
    name: 'switchboard_messages_out_total',
    help: 'Frames sent to clients, by type (one per recipient).',
    labelNames: ['type'] as const,
    registers: [registry],
    collect() {
      messagesOut.drainInto(this);
    },
  });
  const errors = new Counter({
    name: 'switchboard_errors_total',
    help: 'Errors returned to clients (error frames and HTTP rejections), by code.',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const resumes = new Counter({
    name: 'switchboard_resumes_total',
    help: 'Resume attempts, by outcome: resumed, or why not (invalid_token, epoch_changed, expired, taken_over, invalid_seq, overflowed, gap_expired, disabled).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const replayedFrames = new Counter({
    name: 'switchboard_replayed_frames_total',
    help: 'Frames replayed to resumed connections (the frames they missed while away).',
    registers: [registry],
  });
  return { registry, connections, groups, messagesIn, messagesOut, errors, resumes, replayedFrames };
}
