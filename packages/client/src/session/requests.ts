import { SwitchboardError, isErrorCode, type ClientMessage } from '@switchboard/protocol';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A request frame before it gets its id (every client frame but `ping` can carry one). */
export type OutgoingRequest = DistributiveOmit<Exclude<ClientMessage, { type: 'ping' }>, 'id'>;

interface Pending {
  id: number;
  text: string;
  sent: boolean;
  timer: ReturnType<typeof setTimeout>;
  resolve(result: unknown): void;
  reject(error: SwitchboardError): void;
}

/**
 * Request ids and acks: every request gets an id, the server answers `ack` or
 * `error` with the same id. Requests made while the socket is not usable wait
 * in a queue (in order) until `flush`. Each rejects with TIMEOUT after
 * `timeoutMs`, counted from the moment the app asked.
 */
export class Requests {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private queue: Pending[] = [];

  constructor(private readonly timeoutMs: number) {}

  /** Registers a request and tries `send` (null or false → it waits for `flush`). */
  create(frame: OutgoingRequest, send: ((text: string) => boolean) | null): Promise<unknown> {
    const id = this.nextId++;
    const { type, ...rest } = frame;
    const text = JSON.stringify({ type, id, ...rest });
    return new Promise<unknown>((resolve, reject) => {
      const entry: Pending = {
        id,
        text,
        sent: false,
        timer: setTimeout(() => {
          this.remove(entry);
          reject(new SwitchboardError('TIMEOUT', `No answer to "${frame.type}" within ${this.timeoutMs} ms.`));
        }, this.timeoutMs),
        resolve,
        reject,
      };
      this.pending.set(id, entry);
      if (send !== null && send(text)) entry.sent = true;
      else this.queue.push(entry);
    });
  }

  /** Sends the queued requests in order; stops at the first one the socket refuses. */
  flush(send: (text: string) => boolean): void {
    while (this.queue.length > 0) {
      const entry = this.queue[0]!;
      if (!send(entry.text)) return;
      entry.sent = true;
      this.queue.shift();
    }
  }

  get queued(): number {
    return this.queue.length;
  }

  handleAck(id: number, result: unknown): boolean {
    const entry = this.pending.get(id);
    if (!entry) return false;
    this.remove(entry);
    entry.resolve(result);
    return true;
  }

  handleError(id: number, code: string, message: string): boolean {
    const entry = this.pending.get(id);
    if (!entry) return false;
    this.remove(entry);
    entry.reject(new SwitchboardError(isErrorCode(code) ? code : 'INTERNAL', message));
    return true;
  }

  /** The socket went away: requests already on the wire can no longer be answered. Queued ones wait. */
  failSent(error: () => SwitchboardError): void {
    for (const entry of [...this.pending.values()]) {
      if (!entry.sent) continue;
      this.remove(entry);
      entry.reject(error());
    }
  }

  /** Rejects everything, sent or queued. */
  failAll(error: () => SwitchboardError): void {
    for (const entry of [...this.pending.values()]) {
      this.remove(entry);
      entry.reject(error());
    }
  }

  private remove(entry: Pending): void {
    clearTimeout(entry.timer);
    this.pending.delete(entry.id);
    if (!entry.sent) this.queue = this.queue.filter((item) => item !== entry);
  }
}
