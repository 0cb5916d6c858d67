import type { RealtimeEvent } from '../src/types.js';

type Predicate = (event: RealtimeEvent) => boolean;

/** Records the events a realtime callback receives; `waitFor` awaits one (no fixed sleeps). */
export class Recorder {
  readonly events: RealtimeEvent[] = [];
  private waiters: { predicate: Predicate; from: number; resolve: (event: RealtimeEvent) => void }[] = [];

  readonly cb = (event: RealtimeEvent): void => {
    this.events.push(event);
    const index = this.events.length - 1;
    this.waiters = this.waiters.filter((waiter) => {
      if (index < waiter.from || !waiter.predicate(event)) return true;
      waiter.resolve(event);
      return false;
    });
  };

  /** The position to pass as `from` to only see events after now. */
  mark(): number {
    return this.events.length;
  }

  /** The first event (at or after `from`) matching `predicate`, waiting for it if needed. */
  waitFor(predicate: Predicate, from = 0, timeoutMs = 10_000, label = 'event'): Promise<RealtimeEvent> {
    const found = this.events.slice(from).find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter.resolve !== done);
        reject(new Error(`Timed out waiting for ${label}; got: ${JSON.stringify(this.events.slice(from).map(brief))}`));
      }, timeoutMs);
      const done = (event: RealtimeEvent) => {
        clearTimeout(timer);
        resolve(event);
      };
      this.waiters.push({ predicate, from, resolve: done });
    });
  }

  count(predicate: Predicate, from = 0): number {
    return this.events.slice(from).filter(predicate).length;
  }

  of<T extends RealtimeEvent['type']>(type: T, from = 0): Extract<RealtimeEvent, { type: T }>[] {
    return this.events.slice(from).filter((event): event is Extract<RealtimeEvent, { type: T }> => event.type === type);
  }
}

function brief(event: RealtimeEvent): unknown {
  const { type, message } = event as { type: string; message?: unknown };
  const code = (event as { code?: unknown }).code;
  return code ? { type, message, code } : { type, message };
}

export const isNotice = (code: string, senderCid?: string | null) => (event: RealtimeEvent) =>
  event.type === 'notice' && event.code === code && (senderCid === undefined || event.sender_cid === senderCid);
