/**
 * Request ids a connection already executed, so that a request the client re-sends after a
 * resume (its reply was not in the replay) runs once. An id counts as a duplicate only when
 * it was executed under an earlier resume generation: within one socket ids are not checked,
 * as before (a raw client may reuse them). The replies need no copy here: every reply is a
 * sequenced frame, so it is in the replay buffer (replayed) or still to come from the request
 * that is running; the duplicate is dropped without an answer.
 *
 * Only requests the client may still send again are kept: once it confirms the frame that
 * answered one (a receipt or a probe's pong, connection.ts), it has the answer and will not, so
 * the id is forgotten. A chatty connection keeps a handful of ids, not the last `max` of them.
 */
export class RequestLog {
  /** id → generation it ran under; Map order = execution order, so the oldest go first. Made on first record (most connections never resume). */
  private ids: Map<number, number> | null = null;
  /** Answers sent, in seq order from `head`: id, seq, id, seq, … (one array, no object per request). */
  private answered: number[] | null = null;
  private head = 0;

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

  /** The answer to request `id` was numbered `seq`. */
  answer(id: number, seq: number): void {
    if (this.ids === null) return;
    const answered = (this.answered ??= []);
    answered.push(id, seq);
    // Never confirmed (a client that does not answer probes): keep as many as ids.
    if (answered.length - this.head > 2 * this.max) this.drop(this.head + 2);
  }

  /** The client has every frame through `seq`: the requests they answered will not come again. */
  confirmed(seq: number): void {
    const answered = this.answered;
    if (answered === null) return;
    let at = this.head;
    while (at < answered.length && answered[at + 1]! <= seq) {
      this.ids!.delete(answered[at]!);
      at += 2;
    }
    this.drop(at);
  }

  /** Answers kept (id and seq pairs), the ones already dropped but not yet cut from the array included. */
  get answersHeld(): number {
    return (this.answered?.length ?? 0) / 2;
  }

  /** Drops the answers before index `at`; cuts them from the array once they are half of it. */
  private drop(at: number): void {
    const answered = this.answered!;
    if (at === answered.length) {
      answered.length = 0;
      at = 0;
    } else if (at >= 64 && 2 * at >= answered.length) {
      answered.splice(0, at);
      at = 0;
    }
    this.head = at;
  }

  get size(): number {
    return this.ids?.size ?? 0;
  }
}
