/** A once-a-second quality readout from RTCPeerConnection.getStats(). */

export interface Quality {
  rttMs: number | null;
  lossPct: number | null;
  /** Received bits per second (audio + video). */
  inKbps: number | null;
  /** Sent bits per second (audio + video). */
  outKbps: number | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  framesDecoded: number;
  level: 'good' | 'fair' | 'poor' | 'unknown';
  /** Plain words for a poor connection (what is wrong, what helps), else null. */
  hint: string | null;
}

interface Totals {
  at: number;
  bytesIn: number;
  bytesOut: number;
  lost: number;
  received: number;
}

type Stat = Record<string, unknown> & { type: string; id: string };

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

export class QualityMeter {
  private last: Totals | null = null;
  private sampled: RTCPeerConnection | null = null;

  /** `pc` is read at each sample: a call with a Node peer may replace its peer connection (a renewal). */
  constructor(private readonly pc: () => RTCPeerConnection) {}

  async sample(): Promise<Quality> {
    const pc = this.pc();
    if (pc !== this.sampled) this.last = null; // totals of another peer connection are no baseline
    this.sampled = pc;
    const report = await pc.getStats();
    const stats: Stat[] = [];
    report.forEach((value: Stat) => stats.push(value));
    const byId = new Map(stats.map((s) => [s.id, s]));

    let pair: Stat | undefined;
    for (const s of stats) {
      if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pair = byId.get(s.selectedCandidatePairId);
    }
    pair ??= stats.find((s) => s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated === true);

    let bytesIn = 0,
      bytesOut = 0,
      lost = 0,
      received = 0;
    let remoteRtt: number | null = null,
      outLoss: number | null = null;
    let width: number | null = null,
      height: number | null = null,
      fps: number | null = null,
      framesDecoded = 0;
    let bestPixels = -1;
    for (const s of stats) {
      if (s.type === 'inbound-rtp') {
        bytesIn += num(s.bytesReceived) ?? 0;
        lost += Math.max(0, num(s.packetsLost) ?? 0);
        received += num(s.packetsReceived) ?? 0;
        if (s.kind === 'video') {
          framesDecoded += num(s.framesDecoded) ?? 0;
          const w = num(s.frameWidth),
            hh = num(s.frameHeight);
          if (w !== null && hh !== null && w * hh > bestPixels) {
            bestPixels = w * hh;
            width = w;
            height = hh;
            fps = num(s.framesPerSecond);
          }
        }
      } else if (s.type === 'outbound-rtp') {
        bytesOut += num(s.bytesSent) ?? 0;
      } else if (s.type === 'remote-inbound-rtp') {
        // What the other side reports about what we send: their loss and the round trip it measured.
        remoteRtt ??= num(s.roundTripTime);
        const fraction = num(s.fractionLost);
        if (fraction !== null) outLoss = Math.max(outLoss ?? 0, fraction * 100);
      }
    }

    const now = performance.now();
    const prev = this.last;
    this.last = { at: now, bytesIn, bytesOut, lost, received };
    const seconds = prev ? (now - prev.at) / 1000 : 0;
    const rtt = num(pair?.currentRoundTripTime) ?? remoteRtt;
    const dLost = prev ? lost - prev.lost : 0;
    const dReceived = prev ? received - prev.received : 0;
    const inLoss = prev && dLost + dReceived > 0 ? (100 * dLost) / (dLost + dReceived) : prev ? 0 : null;
    const lossPct = inLoss === null ? outLoss : Math.max(inLoss, outLoss ?? 0);
    const quality: Quality = {
      rttMs: rtt === null ? null : Math.round(rtt * 1000),
      lossPct,
      inKbps: prev && seconds > 0 ? Math.max(0, ((bytesIn - prev.bytesIn) * 8) / seconds / 1000) : null,
      outKbps: prev && seconds > 0 ? Math.max(0, ((bytesOut - prev.bytesOut) * 8) / seconds / 1000) : null,
      width,
      height,
      fps,
      framesDecoded,
      level: 'unknown',
      hint: null,
    };
    quality.level = levelOf(quality);
    quality.hint = hintOf(quality);
    return quality;
  }
}

function levelOf(q: Quality): Quality['level'] {
  if (q.rttMs === null && q.lossPct === null) return 'unknown';
  const rtt = q.rttMs ?? 0;
  const loss = q.lossPct ?? 0;
  if (rtt > 400 || loss > 8) return 'poor';
  if (rtt > 150 || loss > 2) return 'fair';
  return 'good';
}

function hintOf(q: Quality): string | null {
  if (q.level !== 'poor') return null;
  if ((q.lossPct ?? 0) > 8)
    return 'Your network is dropping packets: video may freeze or blur. A wired or closer Wi-Fi connection helps, or turn your camera off.';
  return 'Your connection is slow to respond: expect delays. Closing other downloads or moving closer to Wi-Fi helps.';
}

export function formatRate(kbps: number | null): string {
  if (kbps === null) return '– kbps';
  return kbps >= 1000 ? `${(kbps / 1000).toFixed(1)} Mbps` : `${Math.round(kbps)} kbps`;
}
