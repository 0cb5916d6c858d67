/**
 * Whether Redis answers. A Redis that is paused (SIGSTOP, a VM stall, a blocked main thread)
 * keeps its TCP connection open: ioredis sees no 'close', and every command would wait for
 * its `commandTimeoutMs`, one after the other. So the node keeps a flag instead:
 *
 * - down at once when a command times out, when a probe (PING every `probeIntervalMs`) gets no
 *   answer within min(commandTimeoutMs, probeIntervalMs), or when the connection closes;
 * - up again when a probe is answered (or ioredis reconnects).
 *
 * While down, the store, the bus and the heartbeat send nothing: every request that needs
 * shared state answers SERVER_UNAVAILABLE without waiting, and sockets stay open. One warn is
 * logged per change of state; the failures in between are counted, not logged.
 */
import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logger.js';

export interface RedisHealthOptions {
  redis: Redis;
  /** The URL with its password hidden. */
  url: string;
  probeIntervalMs: number;
  commandTimeoutMs: number;
  log: Logger;
  registry: Registry;
  /** Redis answers again after a stall (the connection stayed open). */
  onRecovered(): void;
}

const TIMEOUT_MESSAGE = 'Command timed out';
const FAILURE_LOG_INTERVAL_MS = 5_000;

export class RedisHealth {
  private down: string | null = null;
  private downSince = 0;
  private started = false;
  private probing = false;
  private timer: NodeJS.Timeout | null = null;
  private lastFailureLog = 0;
  private readonly gauge: Gauge;
  private readonly timeouts: Counter;

  constructor(private readonly o: RedisHealthOptions) {
    this.gauge = new Gauge({
      name: 'switchboard_redis_up',
      help: '1 while this node reaches Redis and Redis answers (0 while disconnected or not answering).',
      registers: [o.registry],
    });
    this.timeouts = new Counter({
      name: 'switchboard_redis_command_timeouts_total',
      help: 'Redis commands (health probes included) that got no answer within cluster.commandTimeoutMs.',
      registers: [o.registry],
    });
  }

  /** Serving: Redis is connected and answers. */
  isUp(): boolean {
    return this.started && this.down === null && this.o.redis.status === 'ready';
  }

  /** Known not to answer: callers fail at once instead of sending a command that would wait. */
  isDown(): boolean {
    return this.down !== null;
  }

  /** The node registered: from now on, probe and report changes. */
  start(): void {
    this.started = true;
    this.down = null;
    this.gauge.set(1);
    this.timer = setInterval(() => void this.probe(), this.o.probeIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.gauge.set(0);
  }

  /** A command failed: a timeout means Redis is not answering; anything else is logged (rate limited). */
  failure(err: unknown): void {
    const message = (err as Error | undefined)?.message ?? String(err);
    if (message === TIMEOUT_MESSAGE) {
      this.timeouts.inc();
      this.markDown(`no answer within ${this.o.commandTimeoutMs} ms`);
      // One slow command is not a stalled Redis: ask at once whether it answers.
      void this.probe();
      return;
    }
    if (this.down !== null || !this.started) {
      this.o.log.debug({ redis: this.o.url, err: message }, 'cluster: Redis command failed');
      return;
    }
    if (Date.now() - this.lastFailureLog < FAILURE_LOG_INTERVAL_MS) return;
    this.lastFailureLog = Date.now();
    this.o.log.warn({ redis: this.o.url, err: message }, 'cluster: Redis command failed');
  }

  /** The connection closed (ioredis reconnects by itself). */
  disconnected(): void {
    this.markDown('connection lost');
  }

  /** ioredis (re)connected and passed its ready check. Returns whether this ends an outage. */
  connected(): boolean {
    return this.markUp(false);
  }

  private async probe(): Promise<void> {
    if (this.probing || !this.started || this.o.redis.status !== 'ready') return;
    this.probing = true;
    const limit = Math.min(this.o.commandTimeoutMs, this.o.probeIntervalMs);
    let timer: NodeJS.Timeout | undefined;
    try {
      const ping = this.o.redis.ping();
      ping.catch(() => undefined); // answered (or rejected) after our own deadline: ignored
      await Promise.race([
        ping,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(TIMEOUT_MESSAGE)), limit);
        }),
      ]);
      this.markUp(true);
    } catch (err) {
      const message = (err as Error).message;
      if (message === TIMEOUT_MESSAGE) {
        this.timeouts.inc();
        this.markDown(`no answer to PING within ${limit} ms`);
      } else this.markDown(message);
    } finally {
      clearTimeout(timer);
      this.probing = false;
    }
  }

  private markDown(reason: string): void {
    if (this.down !== null) return;
    this.down = reason;
    this.downSince = Date.now();
    this.gauge.set(0);
    if (this.started) {
      this.o.log.warn({ redis: this.o.url, reason }, 'cluster: Redis is not answering; requests that need it answer SERVER_UNAVAILABLE until it does');
    }
  }

  private markUp(stalled: boolean): boolean {
    if (this.down === null) return false;
    const reason = this.down;
    this.down = null;
    if (!this.started) return false;
    this.gauge.set(1);
    const ms = Date.now() - this.downSince;
    this.o.log.warn({ redis: this.o.url, reason, ms }, 'cluster: Redis answers again');
    if (stalled) this.o.onRecovered();
    return true;
  }
}
