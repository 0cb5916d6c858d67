/**
 * Who is talking in a group call, from getStats: the audio energy each connection received
 * (`inbound-rtp`, kind audio) and our own microphone's (`media-source`), over a window of about
 * two seconds so short sounds do not make the outline flicker. Energy rather than `audioLevel`
 * (one instant) because a voice, or Chromium's fake beeping microphone, has gaps.
 */

const INTERVAL_MS = 1000;
/** Samples kept per person: the level is the RMS from the oldest to the newest (~2 s). getStats is not free: once a second. */
const WINDOW = 3;
/** Below this RMS nobody counts as talking (background noise, comfort noise). */
const THRESHOLD = 0.003;

interface Sample {
  energy: number;
  duration: number;
}

export interface SpeakerSource {
  id: string;
  pc: RTCPeerConnection;
  /** Read `inbound-rtp` (what this member sends us) or `media-source` (our microphone). */
  kind: 'inbound' | 'local';
}

export class ActiveSpeaker {
  private readonly history = new Map<string, Sample[]>();
  private timer: number | undefined;
  private current: string | null = null;

  constructor(
    private readonly sources: () => SpeakerSource[],
    private readonly changed: (id: string | null) => void,
  ) {}

  start(): void {
    this.stop();
    this.timer = window.setInterval(() => void this.sample(), INTERVAL_MS);
  }

  stop(): void {
    window.clearInterval(this.timer);
    this.timer = undefined;
    this.history.clear();
    this.current = null;
  }

  /** The RMS level per id over the window (for tests and the curious). */
  levels(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, samples] of this.history) {
      const first = samples[0];
      const last = samples[samples.length - 1];
      if (!first || !last || last.duration <= first.duration) continue;
      out[id] = Math.sqrt(Math.max(0, last.energy - first.energy) / (last.duration - first.duration));
    }
    return out;
  }

  private async sample(): Promise<void> {
    const sources = this.sources();
    const live = new Set(sources.map((s) => s.id));
    for (const id of this.history.keys()) if (!live.has(id)) this.history.delete(id);
    await Promise.all(
      sources.map(async (source) => {
        const reading = await readEnergy(source).catch(() => null);
        if (!reading || this.timer === undefined) return;
        const samples = this.history.get(source.id) ?? [];
        samples.push(reading);
        if (samples.length > WINDOW) samples.shift();
        this.history.set(source.id, samples);
      }),
    );
    if (this.timer === undefined) return;
    let best: string | null = null;
    let bestLevel = THRESHOLD;
    for (const [id, level] of Object.entries(this.levels())) {
      // The one talking keeps the outline unless someone is clearly louder.
      const weighted = id === this.current ? level * 1.25 : level;
      if (weighted > bestLevel) {
        best = id;
        bestLevel = weighted;
      }
    }
    if (best !== this.current) {
      this.current = best;
      this.changed(best);
    }
  }
}

async function readEnergy(source: SpeakerSource): Promise<Sample | null> {
  if (source.pc.connectionState === 'closed') return null;
  const report = await source.pc.getStats();
  let found: Sample | null = null;
  report.forEach((s: { type: string; kind?: string; totalAudioEnergy?: number; totalSamplesDuration?: number }) => {
    const wanted = source.kind === 'inbound' ? 'inbound-rtp' : 'media-source';
    if (s.type !== wanted || s.kind !== 'audio' || typeof s.totalAudioEnergy !== 'number' || typeof s.totalSamplesDuration !== 'number') return;
    found = { energy: s.totalAudioEnergy, duration: s.totalSamplesDuration };
  });
  return found;
}
