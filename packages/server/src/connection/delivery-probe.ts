/**
 * Delivery probes. Resume keeps every numbered frame until the resume window ends, in case the
 * socket dies with it still in flight; most frames are long delivered by then, and keeping ~30 s
 * of them per connection makes a big heap (GC pauses, event-loop stalls). So the ws-level ping
 * carries the highest seq written before it: its pong (browsers and ws answer pings by
 * themselves, in order on one TCP stream) proves the client has every frame through that seq,
 * and the replay buffer lets them go. A ping goes out after PROBE_EVERY_FRAMES numbered frames or
 * with the first one PROBE_EVERY_MS after the last, and with each heartbeat; a ping carries a
 * seq only when it is newer than the last one asked about, so an idle connection's heartbeat
 * costs the store nothing (over Redis, each confirmed seq is a script call).
 */
const PROBE_EVERY_FRAMES = 16;
const PROBE_EVERY_MS = 1_000;

export function probeDue(unprobed: number, probedAt: number): boolean {
  return unprobed >= PROBE_EVERY_FRAMES || Date.now() - probedAt >= PROBE_EVERY_MS;
}

/** The seq a pong confirms, or 0. An unsolicited pong can only confirm frames already sent to this client. */
export function confirmedSeq(data: Buffer, sent: number): number {
  if (data.length === 0 || data.length > 16) return 0;
  const seq = Number(data.toString('latin1'));
  return Number.isSafeInteger(seq) && seq > 0 && seq <= sent ? seq : 0;
}
