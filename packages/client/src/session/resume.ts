import { LAST_SEQ_PARAM, RESUME_PARAM } from '@switchboard/protocol';

/** What to do with a numbered frame (docs/protocol.md §12). */
export type SeqVerdict = 'process' | 'duplicate' | 'gap';

export interface ResumeOutcome {
  /** The server re-attached the connection the client asked for. */
  resumed: boolean;
  /** Why not (`welcome.resumeReason`; any string, a newer server may have new reasons). */
  reason?: string;
}

/**
 * The client half of session resume (docs/adr/0008-resume.md): the token of the connection in
 * use, the highest `seq` processed, and after a resumed welcome, how far the replay must get
 * before the requests still unanswered go out again.
 */
export class ResumeTracker {
  private token: string | null = null;
  private last = 0;
  /** Set by a resumed welcome until the replay is processed. */
  private replayTo: number | null = null;
  /** The cid the current attempt asked to resume (null: a fresh connection). */
  private attempting: string | null = null;
  /** The highest seq told to the server on this socket (a frame's `rx`). */
  private reported = 0;

  get lastSeq(): number {
    return this.last;
  }

  /**
   * `text` (a client frame) with `"rx":<lastSeq>` in front when frames were processed since the
   * last one sent: the server drops them from its replay buffer without waiting for a delivery
   * probe (docs/protocol.md §12). Not on a frame that could then exceed `maxFrameBytes` (a UTF-16
   * unit is at most 3 bytes of UTF-8; the receipt at most 24). Call `sent` once it went out.
   */
  withReceipt(text: string, maxFrameBytes: number): string {
    if (this.last <= this.reported || this.token === null || text.length * 3 + 24 > maxFrameBytes) return text;
    return `{"rx":${this.last},${text.slice(1)}`;
  }

  /** A frame made by withReceipt went out (true, for chaining after the send). */
  sent(text: string): true {
    if (text.startsWith('{"rx":')) this.reported = this.last;
    return true;
  }

  /** A drop now would be resumed: the server gave this connection a token. */
  get canResume(): boolean {
    return this.token !== null;
  }

  /** After a resumed welcome, until every replayed frame was processed. */
  get replaying(): boolean {
    return this.replayTo !== null;
  }

  /** The URL of the next attempt: with `?resume=…&lastSeq=…` when there is a connection to resume. */
  url(base: string, previousCid: string | null): string {
    this.replayTo = null;
    this.attempting = this.token !== null && previousCid !== null ? previousCid : null;
    if (this.attempting === null) return base;
    const url = new URL(base);
    url.searchParams.set(RESUME_PARAM, this.token!);
    url.searchParams.set(LAST_SEQ_PARAM, String(this.last));
    return url.toString();
  }

  /** The connection ended for good (closed on purpose, refused, 1000 from the server): nothing to resume. */
  forget(): void {
    this.token = null;
    this.last = 0;
    this.replayTo = null;
    this.attempting = null;
  }

  /** A welcome arrived: was the connection resumed? Keeps the new token either way. */
  welcomed(welcome: { cid: string; resume?: string; resumed?: boolean; resumeReason?: string; replayTo?: number }): ResumeOutcome {
    const asked = this.attempting;
    this.attempting = null;
    this.reported = 0;
    this.token = welcome.resume ?? null;
    if (asked !== null && welcome.resumed === true && welcome.cid === asked) {
      // Frames lastSeq+1 … replayTo follow this welcome.
      this.replayTo = Math.max(this.last, welcome.replayTo ?? this.last);
      return { resumed: true };
    }
    this.last = 0;
    this.replayTo = null;
    if (asked === null) return { resumed: false };
    const reason = welcome.resumed === true ? 'cid_changed' : welcome.resumeReason;
    return reason === undefined ? { resumed: false } : { resumed: false, reason };
  }

  /**
   * Checks a frame's `seq` before it is processed. A frame seen already is a duplicate; a frame
   * past the next one means frames were lost on the way, and only a resume can bring them back
   * (without a token there is nothing to resume: the frame is taken as it is).
   */
  check(seq: number | undefined): SeqVerdict {
    if (seq === undefined) return 'process';
    if (seq <= this.last) return 'duplicate';
    if (seq > this.last + 1 && this.token !== null) return 'gap';
    this.last = seq;
    return 'process';
  }

  /** True once, when the replay announced by a resumed welcome has been processed. */
  replayDone(): boolean {
    if (this.replayTo === null || this.last < this.replayTo) return false;
    this.replayTo = null;
    return true;
  }
}
