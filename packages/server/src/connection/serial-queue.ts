/**
 * A connection's serial queue: tasks run one after another, in the order they were pushed, and a
 * failing task never breaks the chain. It counts the tasks not finished yet, so a frame that
 * finds it idle may run at once, without a promise (connection.ts, the fast path).
 *
 * An idle connection's queue holds no closure and no promise of its own: the chain's handlers are
 * made at the first push, and the first task's promise is let go once it settled.
 */
export interface QueueOwner {
  /** A task threw or rejected. */
  taskFailed(err: unknown): void;
}

const SETTLED: Promise<unknown> = Promise.resolve();

export class SerialQueue {
  private tail: Promise<unknown>;
  /** Tasks pushed and not finished yet (the first one included). */
  private pending = 1;
  private handlers: { settle: () => void; failed: (err: unknown) => void } | null = null;

  constructor(
    first: Promise<unknown>,
    private readonly owner: QueueOwner,
  ) {
    this.tail = first;
    const settle = (): void => {
      this.pending -= 1;
      if (this.tail === first) this.tail = SETTLED;
    };
    first.then(settle, settle);
  }

  /** Nothing queued or running: a task may run now and still keep the order. */
  get idle(): boolean {
    return this.pending === 0;
  }

  /** Runs `task` after every task pushed before it; its failure goes to the owner. */
  push(task: () => unknown): void {
    this.pending += 1;
    const handlers = (this.handlers ??= {
      settle: () => {
        this.pending -= 1;
      },
      failed: (err: unknown) => this.owner.taskFailed(err),
    });
    this.tail = this.tail.then(task).catch(handlers.failed).finally(handlers.settle);
  }

  /** The last task, for whoever waits for all of them. */
  get done(): Promise<unknown> {
    return this.tail;
  }
}
