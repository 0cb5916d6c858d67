/**
 * Puts a connection's numbered frames on its socket in seq order, each once. In a cluster a
 * cid's frames reach its node by two paths — appended here (replies, local senders) or
 * published by another node's append on the subscriber connection — so seq 7 may arrive
 * before seq 6. A frame ahead of the next expected seq waits (at most `waitMs`) for the
 * missing ones; if they never come (a publish lost with a subscriber connection), the waiting
 * frames go out anyway and the client, seeing the gap, resumes to get them from the buffer.
 */
import { withSeq } from '../resume/frame.js';
import type { OutboundFrame } from '../state/delivery.js';

/** Where the frames go (the connection: no closure per connection). */
export interface FrameWriter {
  send(frame: OutboundFrame): boolean;
}

/** How long a frame waits for the ones before it: far above pub/sub latency, well below a client's patience. */
const REORDER_WAIT_MS = 1_000;

export class SeqOrder {
  private last = 0;
  /** Frames ahead of a gap; made when the first one arrives (rare outside a cluster). */
  private waiting: Map<number, OutboundFrame> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly writer: FrameWriter,
    private readonly waitMs = REORDER_WAIT_MS,
  ) {}

  /**
   * Right after the welcome: the replay (frames lastSeq+1 … replayTo, in order), then the frames
   * that arrived while the connection started, except those the replay covered.
   */
  begin(replay: { seq: number; frame: OutboundFrame }[], replayTo: number, early: { seq: number; frame: OutboundFrame }[]): void {
    this.skipTo(replay.length > 0 ? replay[0]!.seq - 1 : replayTo);
    for (const { seq, frame } of replay) this.push(frame, seq);
    this.skipTo(replayTo);
    for (const { seq, frame } of early) this.push(frame, seq);
  }

  /** The highest seq on the socket: every numbered frame through it was written, in order. */
  get sent(): number {
    return this.last;
  }

  /** Frames up to `seq` are on the socket already (the replay). */
  skipTo(seq: number): void {
    if (seq > this.last) this.last = seq;
    if (this.waiting) for (const waiting of this.waiting.keys()) if (waiting <= this.last) this.waiting.delete(waiting);
    this.drain();
  }

  /** Sends (or holds back) a frame; `seq` 0: unnumbered, sent as is. */
  push(frame: OutboundFrame, seq: number): boolean {
    if (seq === 0) return this.writer.send(frame);
    if (seq <= this.last) return true; // sent already (replay and live overlap)
    if (seq !== this.last + 1) {
      (this.waiting ??= new Map()).set(seq, frame);
      this.timer ??= setTimeout(() => this.flush(), this.waitMs).unref();
      return true;
    }
    this.last = seq;
    const queued = this.writer.send(withSeq(frame, seq));
    this.drain();
    return queued;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.waiting = null;
  }

  private drain(): void {
    const waiting = this.waiting;
    if (waiting === null) return;
    let next: OutboundFrame | undefined;
    while ((next = waiting.get(this.last + 1)) !== undefined) {
      waiting.delete(this.last + 1);
      this.last += 1;
      this.writer.send(withSeq(next, this.last));
    }
    if (waiting.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /** The missing frames did not come: send what waits, in order. */
  private flush(): void {
    this.timer = null;
    const waiting = this.waiting;
    if (waiting === null) return;
    for (const seq of [...waiting.keys()].sort((a, b) => a - b)) {
      const frame = waiting.get(seq)!;
      waiting.delete(seq);
      this.last = seq;
      this.writer.send(withSeq(frame, seq));
    }
  }
}
