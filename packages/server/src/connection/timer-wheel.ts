/**
 * Deadlines for many objects on one timer. A Node timer per connection costs a Timeout, a
 * closure and often a timer list of its own (one per distinct duration): a few hundred bytes
 * each for deadlines that almost never fire (a token expiring hours later). Here a connection's
 * deadline is an entry in a bucket of its lane, and the wheel keeps one timer, armed for the
 * earliest bucket of any lane.
 *
 * A lane is one kind of deadline with one callback for all its items (no closure per item):
 * `lane.set(item, at)` (re)schedules, `lane.delete(item)` cancels. Deadlines are rounded UP to
 * the lane's resolution, so an item never fires before its `at`, and items due in the same
 * bucket share it (tokens minted in the same second expire in one bucket).
 *
 * Bucket times are absolute: a timer that fires late does not push the later buckets back,
 * and every bucket due by then fires in that one wake-up, earliest first.
 */

/** The timer functions the wheel uses (injectable for tests). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** setTimeout's longest delay; a later bucket is reached by re-arming. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** An error thrown by a callback surfaces as an uncaught exception, as it would from a timer, after the other due items ran. */
const rethrow = (err: unknown): void => {
  process.nextTick(() => {
    throw err;
  });
};

export class TimerWheel {
  /** Bucket times (ms) of every lane, a binary min-heap; may hold times whose bucket was emptied (skipped when due). */
  private readonly heap: number[] = [];
  private readonly lanes = new Set<Lane<never>>();
  private timer: unknown = null;
  private armedFor = Infinity;
  /** Buckets not yet fired or emptied, over all lanes: at 0 the wheel holds no timer. */
  private live = 0;
  private ticking = false;

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly onError: (err: unknown) => void = rethrow,
  ) {}

  /** A kind of deadline: `fire(item)` once each item's time came (the item is no longer scheduled then). */
  lane<T>(fire: (item: T) => void, resolutionMs: number): Lane<T> {
    const lane = new Lane<T>(this, fire, resolutionMs);
    this.lanes.add(lane as unknown as Lane<never>);
    return lane;
  }

  /** Stops a lane for good: its items are dropped unfired. */
  removeLane(lane: Lane<never> | Lane<unknown>): void {
    (lane as Lane<never>).clear();
    this.lanes.delete(lane as Lane<never>);
  }

  get now(): number {
    return this.clock.now();
  }

  /** Times still waiting (buckets, including emptied ones not yet passed): for tests. */
  get pendingTimes(): number {
    return this.heap.length;
  }

  /** @internal A lane opened a bucket due at `time`. */
  want(time: number): void {
    this.live += 1;
    heapPush(this.heap, time);
    if (!this.ticking && time < this.armedFor) this.arm(time);
  }

  /** @internal A bucket fired or was emptied. */
  gone(): void {
    this.live -= 1;
    if (this.live > 0 || this.ticking) return;
    this.heap.length = 0;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }

  private arm(time: number): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.armedFor = time;
    const delay = Math.min(Math.max(0, time - this.clock.now()), MAX_DELAY_MS);
    this.timer = this.clock.setTimeout(() => this.tick(), delay);
  }

  private tick(): void {
    this.timer = null;
    this.armedFor = Infinity;
    this.ticking = true;
    try {
      const now = this.clock.now();
      while (this.heap.length > 0 && this.heap[0]! <= now) {
        const time = heapPop(this.heap);
        for (const lane of this.lanes) lane.fireBucket(time, this.onError);
      }
    } finally {
      this.ticking = false;
      if (this.live === 0) this.heap.length = 0;
      if (this.heap.length > 0) this.arm(this.heap[0]!);
    }
  }
}

export class Lane<T> {
  /** Bucket time → items due then. */
  private readonly buckets = new Map<number, Set<T>>();
  /** Item → its bucket time. */
  private readonly entries = new Map<T, number>();

  constructor(
    private readonly wheel: TimerWheel,
    private readonly fire: (item: T) => void,
    private readonly resolutionMs: number,
  ) {
    if (!(resolutionMs >= 1)) throw new Error('Lane: resolutionMs must be at least 1');
  }

  /** Schedules `item` for `at` (Unix ms, or the clock's time), replacing its earlier deadline on this lane. */
  set(item: T, at: number): void {
    this.delete(item);
    const time = Math.ceil(at / this.resolutionMs) * this.resolutionMs;
    let bucket = this.buckets.get(time);
    if (bucket === undefined) {
      bucket = new Set();
      this.buckets.set(time, bucket);
      this.wheel.want(time);
    }
    bucket.add(item);
    this.entries.set(item, time);
  }

  /** Cancels `item`'s deadline; false when it had none. */
  delete(item: T): boolean {
    const time = this.entries.get(item);
    if (time === undefined) return false;
    this.entries.delete(item);
    // The bucket is gone while it fires (a callback cancelling a later item of the same bucket).
    const bucket = this.buckets.get(time);
    if (bucket?.delete(item) && bucket.size === 0) {
      this.buckets.delete(time);
      this.wheel.gone();
    }
    return true;
  }

  has(item: T): boolean {
    return this.entries.has(item);
  }

  /** When `item` fires (its deadline rounded up to the resolution), or undefined. */
  dueAt(item: T): number | undefined {
    return this.entries.get(item);
  }

  get size(): number {
    return this.entries.size;
  }

  /** @internal */
  clear(): void {
    for (let i = 0; i < this.buckets.size; i++) this.wheel.gone();
    this.buckets.clear();
    this.entries.clear();
  }

  /** @internal Fires the items of the bucket due at `time`, if this lane has one. */
  fireBucket(time: number, onError: (err: unknown) => void): void {
    const bucket = this.buckets.get(time);
    if (bucket === undefined) return;
    this.buckets.delete(time);
    this.wheel.gone();
    for (const item of bucket) {
      // A callback may have cancelled or moved a later item of this bucket.
      if (this.entries.get(item) !== time) continue;
      this.entries.delete(item);
      try {
        this.fire(item);
      } catch (err) {
        onError(err);
      }
    }
  }
}

function heapPush(heap: number[], value: number): void {
  let i = heap.push(value) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! <= value) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = value;
}

function heapPop(heap: number[]): number {
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length > 0) {
    let i = 0;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && heap[right]! < heap[left]! ? right : left;
      if (heap[child]! >= last) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
  return top;
}
