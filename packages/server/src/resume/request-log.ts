/**
 * Request ids a connection already executed, so that a request the client re-sends after a
 * resume (its reply was not in the replay) runs once. An id counts as a duplicate only when
 * it was executed under an earlier resume generation: within one socket ids are not checked,
 * as before (a raw client may reuse them). The replies need no copy here: every reply is a
 * sequenced frame, so it is in the replay buffer (replayed) or still to come from the request
 * that is running; the duplicate is dropped without an answer.
 */
export class RequestLog {
  /** id → generation it ran under; Map order = execution order, so the oldest go first. Made on first record (most connections never resume). */
  private ids: Map<number, number> | null = null;

  constructor(private readonly max = 1024) {}

  /** The request `id` starts executing under resume generation `generation`. */
  record(id: number, generation: number): void {
    const ids = (this.ids ??= new Map());
    ids.delete(id);
    ids.set(id, generation);
    if (ids.size > this.max) ids.delete(ids.keys().next().value!);
  }

  /** Whether `id`, arriving under `generation`, already ran under an earlier one. */
  isDuplicate(id: number, generation: number): boolean {
    const ran = this.ids?.get(id);
    return ran !== undefined && ran < generation;
  }

  get size(): number {
    return this.ids?.size ?? 0;
  }
}
