/**
 * Where receiveFiles hands a transfer's chunks: to a Worker in browsers, so that hashing and
 * storing a big file never holds up the page (the main thread only moves each chunk's buffer
 * over, without a copy); on the calling thread where there is no Worker (Node), or where one
 * cannot start (e.g. a Content-Security-Policy without `worker-src blob:`).
 *
 * The Worker runs createSha256 and createAssembly from their own source text, so the SDK needs
 * no separate worker file an app would have to serve.
 */
import { createAssembly, type Assembled, type ReceiveAs } from './assemble.js';
import { createSha256 } from './sha256.js';

export interface Sink {
  /** Takes the chunk's buffer (with a Worker it is transferred: do not use it afterwards). */
  add(chunk: ArrayBuffer): void;
  finish(): Promise<Assembled>;
  /** Forgets the transfer (failed or cancelled). */
  drop(): void;
}

type ToWorker = { op: 'start'; as: ReceiveAs; size: number | null; type: string } | { op: 'end' } | { op: 'drop' };
type FromWorker = { op: 'ready' } | ({ op: 'done' } & Assembled);

/** The Worker's body (stringified: it may use only its arguments and the Worker's globals). */
function workerMain(assemble: typeof createAssembly, sha256: typeof createSha256): void {
  const scope = self as unknown as { onmessage: ((event: MessageEvent) => void) | null; postMessage(message: unknown, transfer?: Transferable[]): void };
  let current: ReturnType<typeof createAssembly> | null = null;
  scope.onmessage = (event) => {
    const message = event.data as ArrayBuffer | ToWorker;
    if (message instanceof ArrayBuffer) current?.add(new Uint8Array(message));
    else if (message.op === 'start') current = assemble(sha256, message.as, message.size, message.type);
    else if (message.op === 'drop') current = null;
    else if (current) {
      const done = current.finish();
      current = null;
      scope.postMessage({ op: 'done', ...done }, done.data ? [done.data.buffer as ArrayBuffer] : []);
    }
  };
  scope.postMessage({ op: 'ready' });
}

const canUseWorker = (): boolean =>
  typeof Worker === 'function' && typeof Blob === 'function' && typeof URL !== 'undefined' && typeof URL.createObjectURL === 'function';

export class Sinks {
  private worker: Worker | null = null;
  private ready = false;
  private readonly waiting: { resolve: (done: Assembled) => void; reject: (error: Error) => void }[] = [];

  constructor(useWorker = canUseWorker()) {
    if (!useWorker) return;
    let url = '';
    const revoke = (): void => {
      if (url) URL.revokeObjectURL(url);
      url = '';
    };
    try {
      url = URL.createObjectURL(new Blob([`(${String(workerMain)})(${String(createAssembly)}, ${String(createSha256)});`], { type: 'text/javascript' }));
      const worker = new Worker(url);
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        if (event.data.op === 'ready') {
          this.ready = true;
          revoke();
        } else this.waiting.shift()?.resolve(event.data);
      };
      worker.onerror = (event) => {
        event.preventDefault();
        revoke();
        this.fail(new Error(`file-transfer worker: ${event.message || 'failed'}`));
      };
      this.worker = worker;
    } catch {
      revoke();
      this.worker = null; // refused (CSP): the calling thread does the work
    }
  }

  /** A sink for one transfer: the Worker once it answered, else this thread. */
  open(as: ReceiveAs, size: number | null, type: string): Sink {
    const worker = this.ready ? this.worker : null;
    if (!worker) {
      const assembly = createAssembly(createSha256, as, size, type);
      return { add: (chunk) => assembly.add(new Uint8Array(chunk)), finish: async () => assembly.finish(), drop: () => undefined };
    }
    const post = (message: ToWorker): void => worker.postMessage(message);
    post({ op: 'start', as, size, type });
    return {
      add: (chunk) => worker.postMessage(chunk, [chunk]),
      finish: () =>
        new Promise<Assembled>((resolve, reject) => {
          if (this.worker !== worker) {
            reject(new Error('file-transfer worker stopped'));
            return;
          }
          this.waiting.push({ resolve, reject });
          post({ op: 'end' });
        }),
      drop: () => post({ op: 'drop' }),
    };
  }

  close(): void {
    this.fail(new Error('receiveFiles stopped'));
  }

  private fail(error: Error): void {
    this.worker?.terminate();
    this.worker = null;
    this.ready = false;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}
