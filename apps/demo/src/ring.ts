/**
 * Ring sounds made with WebAudio (no audio files): a soft two-note chime for an
 * incoming call and a quiet ring-back while our own call rings.
 */
let ctx: AudioContext | null = null;

/** Call from a user gesture (the Join click) so the browser lets us play sound later. */
export function unlockAudio(): void {
  try {
    ctx ??= new AudioContext();
    if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
  } catch {
    ctx = null; // no WebAudio: calls still work, silently
  }
}

function note(ac: AudioContext, out: AudioNode, freq: number, at: number, length: number, peak: number): void {
  const osc = ac.createOscillator();
  const gain = ac.createGain();
  osc.type = 'sine';
  osc.frequency.value = freq;
  gain.gain.setValueAtTime(0.0001, at);
  gain.gain.exponentialRampToValueAtTime(peak, at + 0.015);
  gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
  osc.connect(gain).connect(out);
  osc.start(at);
  osc.stop(at + length + 0.05);
}

export type RingKind = 'incoming' | 'outgoing';

/** Starts ringing; returns a function that stops it. */
export function startRinging(kind: RingKind): () => void {
  const ac = ctx;
  if (!ac) return () => undefined;
  if (ac.state === 'suspended') void ac.resume().catch(() => undefined);
  const master = ac.createGain();
  master.gain.value = kind === 'incoming' ? 0.22 : 0.07;
  master.connect(ac.destination);

  const burst = (): void => {
    const t = ac.currentTime + 0.02;
    if (kind === 'incoming') {
      // E5 → G5 → C6, twice: friendly, not alarming.
      for (const offset of [0, 0.75]) {
        note(ac, master, 659.25, t + offset, 0.5, 0.8);
        note(ac, master, 783.99, t + offset + 0.16, 0.5, 0.7);
        note(ac, master, 1046.5, t + offset + 0.32, 0.7, 0.55);
      }
    } else {
      // Classic ring-back: 440 + 480 Hz for 1.6 s.
      for (const freq of [440, 480]) {
        const osc = ac.createOscillator();
        const gain = ac.createGain();
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, t);
        gain.gain.exponentialRampToValueAtTime(0.5, t + 0.05);
        gain.gain.setValueAtTime(0.5, t + 1.55);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + 1.6);
        osc.connect(gain).connect(master);
        osc.start(t);
        osc.stop(t + 1.65);
      }
    }
  };
  burst();
  const timer = window.setInterval(burst, kind === 'incoming' ? 3000 : 4000);
  return () => {
    window.clearInterval(timer);
    const t = ac.currentTime;
    master.gain.cancelScheduledValues(t);
    master.gain.setValueAtTime(master.gain.value, t);
    master.gain.linearRampToValueAtTime(0, t + 0.08);
    window.setTimeout(() => master.disconnect(), 150);
  };
}
