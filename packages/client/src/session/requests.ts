import { MAX_NESTING_DEPTH, SwitchboardError, isErrorCode, type ClientMessage } from '@switchboard/protocol';
import { checkResult } from './decode.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A request frame before it gets its id (every client frame but `ping` can carry one). */
export type OutgoingRequest = DistributiveOmit<Exclude<ClientMessage, { type: 'ping' }>, 'id'>;

/** How often a request answered RATE_LIMITED goes out again (paced) before the error reaches the app. */
export const RATE_LIMITED_RETRIES = 3;

/** How a request is sent and what it resolves with. */
export interface RequestOptions {
  /** Re-sync requests go ahead of the others and out before the session is open. */
  priority?: boolean;
  /** What the request resolves with, from the ack's result (may throw: the request fails); by default the result itself. */
  map?: (result: unknown, type: string) => unknown;
  /** The frame's size limit: a larger request fails with PAYLOAD_TOO_LARGE and is not sent. */
  maxBytes?: number;
  /** The error for a request JSON cannot encode (a cycle, a BigInt); by default INVALID_PARAMETER. */
  unencodable?: () => SwitchboardError;
}

/** A request resolving with `map(result)` instead of the ack's result. */
export type MappedRequest<R> = Omit<RequestOptions, 'map'> & { map: (result: unknown, type: string) => R };
/** Session requests without a map of their own: the ack's result must be an object. */
export const ORDINARY: RequestOptions = { map: checkResult };
export const PRIORITY: RequestOptions = { priority: true, map: checkResult };

interface Pending {
  id: number;
  type: string;
  text: string;
  map: ((result: unknown, type: string) => unknown) | undefined;
  /** Re-sync requests go ahead of the others and out before the session is open. */
  priority: boolean;
  sent: boolean;
  /** Sent on a socket that dropped; kept for a resume, which sends it again with the same id. */
  kept: boolean;
  retries: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve(result: unknown): void;
  reject(error: SwitchboardError): void;
}

/**
 * Request ids and acks: every request gets an id, the server answers `ack` or
 * `error` with the same id. Requests wait in one queue, in order (re-sync ones
 * first), until `flush` puts them on the wire: while the socket is not usable,
 * and while the pacer holds them back.
 *
 * Timeouts: TIMEOUT after `timeoutMs` without an answer, counted from the send,
 * or from the call while there is no connection. A request that only waits for
 * its turn under the rate limit (`connected()` is true) does not time out.
 */
export class Requests {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private queue: Pending[] = [];

  constructor(
    private readonly timeoutMs: number,
    /** True while a welcomed connection exists: queued requests then only wait for the pacer. */
    private readonly connected: () => boolean,
  ) {}

  /** Registers a request; it goes out with the next `flush`. */
  create(frame: OutgoingRequest, options: RequestOptions = {}): Promise<unknown> {
    const id = this.nextId++;
    const type = frame.type;
    let text: string;
    try {
      // The frame is encoded once, here; its id goes in front.
      text = `{"id":${id},${JSON.stringify(frame).slice(1)}`;
    } catch (error) {
      // A cycle, a BigInt, or nesting deep enough to exhaust the stack.
      return Promise.reject(options.unencodable?.() ?? new SwitchboardError('INVALID_PARAMETER', `Cannot encode the "${type}" request: ${String(error)}`));
    }
    if (tooDeep(text)) {
      return Promise.reject(
        new SwitchboardError('INVALID_PARAMETER', `The "${type}" request nests deeper than ${MAX_NESTING_DEPTH} levels of objects and arrays.`),
      );
    }
    const max = options.maxBytes;
    // A UTF-16 unit is at most 3 bytes of UTF-8: only long frames are measured.
    if (max !== undefined && text.length * 3 > max) {
      const size = byteLength(text);
      if (size > max)
        return Promise.reject(new SwitchboardError('PAYLOAD_TOO_LARGE', `The message is ${size} bytes as a frame; the server accepts at most ${max}.`));
    }
    return new Promise<unknown>((resolve, reject) => {
      const entry: Pending = {
        id,
        type,
        text,
        map: options.map,
        priority: !!options.priority,
        sent: false,
        kept: false,
        retries: 0,
        timer: undefined,
        resolve,
        reject,
      };
      this.arm(entry);
      this.pending.set(id, entry);
      this.enqueue(entry);
    });
  }

  /** Sends queued requests in order (only re-sync ones if `priorityOnly`); stops at the first `send` refuses. */
  flush(send: (text: string) => boolean, priorityOnly = false): void {
    while (this.queue.length > 0) {
      const entry = this.queue[0]!;
      if (priorityOnly && !entry.priority) return;
      if (!send(entry.text)) return;
      entry.sent = true;
      entry.kept = false;
      this.queue.shift();
      this.arm(entry); // the server has timeoutMs from now
    }
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * The server answered RATE_LIMITED: the request goes back into the queue at its place (by id),
   * to be sent again when the pacer allows. False once it was retried RATE_LIMITED_RETRIES times.
   */
  retry(id: number): boolean {
    const entry = this.pending.get(id);
    if (!entry || !entry.sent || entry.retries >= RATE_LIMITED_RETRIES) return false;
    entry.retries += 1;
    entry.sent = false;
    this.enqueue(entry);
    return true;
  }

  handleAck(id: number, result: unknown): boolean {
    const entry = this.pending.get(id);
    if (!entry) return false;
    this.remove(entry);
    try {
      entry.resolve(entry.map ? entry.map(result, entry.type) : result);
    } catch (error) {
      entry.reject(error as SwitchboardError); // the map's own verdict on the result
    }
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

  /**
   * The socket dropped and a resume will be tried: requests on the wire stay pending, back in the
   * queue at their place (before the ones never sent), to go out again with their ids once the
   * resumed connection replayed what it missed (an answer in the replay settles them first).
   * Each gets a full timeout from now.
   */
  keepSent(): void {
    for (const entry of this.pending.values()) {
      if (!entry.sent) continue;
      entry.sent = false;
      entry.kept = true;
      this.enqueue(entry);
      this.arm(entry);
    }
  }

  /** The resume was refused: the kept requests may or may not have run, as after any drop. */
  failKept(error: () => SwitchboardError): void {
    for (const entry of [...this.pending.values()]) {
      if (!entry.kept) continue;
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

  /** Queue order: re-sync requests first, then by id (retried requests return to their place). */
  private enqueue(entry: Pending): void {
    let at = this.queue.length;
    while (at > 0) {
      const before = this.queue[at - 1]!;
      if (before.priority === entry.priority ? before.id < entry.id : before.priority) break;
      at -= 1;
    }
    this.queue.splice(at, 0, entry);
  }

  private arm(entry: Pending): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      if (!entry.sent && this.connected()) return this.arm(entry); // waiting for its turn only
      this.remove(entry);
      entry.reject(new SwitchboardError('TIMEOUT', `No answer to "${entry.type}" within ${this.timeoutMs} ms.`));
    }, this.timeoutMs);
  }

  private remove(entry: Pending): void {
    clearTimeout(entry.timer);
    this.pending.delete(entry.id);
    if (!entry.sent) this.queue = this.queue.filter((item) => item !== entry);
  }
}

export function byteLength(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

/** Nested deeper than the server takes (it would refuse the frame and count a violation). */
function tooDeep(text: string): boolean {
  let depth = 0;
  let inString = false;
  // A frame needs a bracket per level: a short one cannot be too deep.
  for (let i = text.length > MAX_NESTING_DEPTH ? 0 : text.length; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // \ escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_NESTING_DEPTH) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
