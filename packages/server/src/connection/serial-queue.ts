/**
 * A connection's serial queue: tasks run one after another, in the order they were pushed, and a
 * failing task never breaks the chain. It counts the tasks not finished yet, so a frame that
 * finds it idle may run at once, without a promise (connection.ts, the fast path).
 */
export class SerialQueue {
  private tail: Promise<unknown>;
  /** Tasks pushed and not finished yet (the first one included). */
  private pending = 1;
  private readonly settle = (): void => {
    this.pending -= 1;
  };

  constructor(
    first: Promise<unknown>,
    private readonly onError: (err: unknown) => void,
  ) {
    this.tail = first;
    first.then(this.settle, this.settle);
  }

  /** Nothing queued or running: a task may run now and still keep the order. */
  get idle(): boolean {
    return this.pending === 0;
  }

  /** Runs `task` after every task pushed before it; its failure goes to onError. */
  push(task: () => unknown): void {
    this.pending += 1;
    this.tail = this.tail.then(task).catch(this.onError).finally(this.settle);
  }

  /** The last task, for whoever waits for all of them. */
  get done(): Promise<unknown> {
    return this.tail;
  }
}
