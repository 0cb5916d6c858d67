/**
 * Delivery probes. Resume keeps every numbered frame until the resume window ends, in case the
 * socket dies with it still in flight; most frames are long delivered by then, and keeping ~30 s
 * of them per connection makes a big heap (GC pauses, event-loop stalls). So the ws-level ping
 * carries the highest seq written before it: its pong (browsers and ws answer pings by
 * themselves, in order on one TCP stream) proves the client has every frame through that seq,
 * and the replay buffer lets them go. A ping goes out after PROBE_EVERY_FRAMES numbered frames or
 * PROBE_EVERY_BYTES of them, or with the first one PROBE_EVERY_MS after the last, and with each
 * heartbeat; a ping carries a seq only when it is newer than the last one asked about, so an idle
 * connection's heartbeat costs the store nothing (over Redis, each confirmed seq is a script call).
 *
 * Frames and bytes: what a probe saves is memory, and each pong costs a read of its own (at light
 * load a wake-up of the server's process: bench/crossing.mjs). A member of a busy group gets many
 * small frames, each held by reference to the one copy all members' buffers share, so a count of
 * frames alone would probe it often for little memory; large frames are probed by their bytes.
 */
export const PROBE_EVERY_FRAMES = 64;
export const PROBE_EVERY_BYTES = 64 * 1024;
const PROBE_EVERY_MS = 1_000;

/**
 * One connection's probes. At most one is unanswered at a time: a client slow to answer is slow
 * to read or to write, and more pings would only queue more pongs behind its own backlog (`ws`
 * clients drop their socket once 60 pongs wait unsent, so a burst of sends acked frame by frame
 * would end a Node SDK connection). Heartbeats still ping, with the seq when it is newer.
 */
export class DeliveryProbe {
  /** The seq the last probe asked about, when a ping last went, and the bytes of numbered frames written since. */
  private seq = 0;
  private at = 0;
  private bytes = 0;
  private waiting = false;

  /** Counts a numbered frame of `size` bytes, written through seq `sent`: whether a probe should go along. */
  wrote(sent: number, size: number): boolean {
    this.bytes += size;
    return !this.waiting && (sent - this.seq >= PROBE_EVERY_FRAMES || this.bytes >= PROBE_EVERY_BYTES || Date.now() - this.at >= PROBE_EVERY_MS);
  }

  /** A ping goes out now: the seq it carries (newer than the last one asked about), or undefined. */
  ask(sent: number): string | undefined {
    this.at = Date.now();
    if (sent <= this.seq) return undefined;
    this.seq = sent;
    this.bytes = 0;
    this.waiting = true;
    return String(sent);
  }

  /** The client has every frame through `seq`; `receipt`: a frame's `rx`, which stands for a probe answered now. */
  answered(seq: number, receipt: boolean): void {
    if (seq >= this.seq) this.waiting = false;
    if (!receipt || seq <= this.seq) return;
    this.seq = seq;
    this.bytes = 0;
    this.at = Date.now();
  }
}

/** The seq a pong confirms, or 0. An unsolicited pong can only confirm frames already sent to this client. */
export function confirmedSeq(data: Buffer, sent: number): number {
  if (data.length === 0 || data.length > 16) return 0;
  const seq = Number(data.toString('latin1'));
  return Number.isSafeInteger(seq) && seq > 0 && seq <= sent ? seq : 0;
}
