/**
 * The check before joining: a camera preview, a microphone level meter, pickers for camera,
 * microphone and speaker, and one-click camera / microphone off. Every choice is remembered
 * (devices.ts) and used by the next call. The preview lets go of the devices when the room opens.
 */
import { canPickSpeaker, fillPicker, listDevices, loadPrefs, openDevices, savePrefs, type DeviceKind } from './devices.js';
import { $, setIcon } from './dom.js';
import { stopStream } from './media.js';

export class PreJoin {
  private stream: MediaStream | null = null;
  private audio: AudioContext | null = null;
  private meterFrame = 0;
  private running = false;
  private generation = 0;
  private readonly video = $<HTMLVideoElement>('preview');
  private readonly pickers: Record<DeviceKind, HTMLSelectElement> = {
    camera: $<HTMLSelectElement>('pick-camera'),
    microphone: $<HTMLSelectElement>('pick-microphone'),
    speaker: $<HTMLSelectElement>('pick-speaker'),
  };

  constructor() {
    $('pre-cam').addEventListener('click', () => this.toggle('camOn'));
    $('pre-mic').addEventListener('click', () => this.toggle('micOn'));
    for (const kind of ['camera', 'microphone', 'speaker'] as const) {
      this.pickers[kind].addEventListener('change', () => {
        savePrefs({ [kind]: this.pickers[kind].value || null });
        if (kind !== 'speaker') void this.restart();
      });
    }
    $('pick-speaker-field').hidden = !canPickSpeaker();
    navigator.mediaDevices?.addEventListener?.('devicechange', () => void this.refreshPickers());
    // The meter needs a running AudioContext, which browsers allow after the first gesture.
    for (const type of ['pointerdown', 'keydown'] as const) {
      document.addEventListener(type, () => void this.audio?.resume().catch(() => undefined), { capture: true });
    }
  }

  /** Shows the preview and starts the devices (the lobby is on screen). */
  start(): void {
    this.running = true;
    this.renderToggles();
    void this.restart();
  }

  /** Lets go of camera and microphone (joining the room, or leaving the page). */
  stop(): void {
    this.running = false;
    this.generation++;
    this.release();
  }

  private release(): void {
    cancelAnimationFrame(this.meterFrame);
    stopStream(this.stream);
    this.stream = null;
    this.video.srcObject = null;
    void this.audio?.close().catch(() => undefined);
    this.audio = null;
    this.setLevel(0);
  }

  private async restart(): Promise<void> {
    const generation = ++this.generation;
    this.release();
    const prefs = loadPrefs();
    const status = $('preview-status');
    let stream: MediaStream | null = null;
    if (typeof navigator.mediaDevices?.getUserMedia === 'function') {
      try {
        stream = await openDevices(prefs.camera, prefs.microphone);
      } catch {
        stream = await openDevices(false, prefs.microphone).catch(() => null);
      }
    }
    if (generation !== this.generation || !this.running) {
      stopStream(stream);
      return;
    }
    this.stream = stream;
    const hasVideo = !!stream?.getVideoTracks().length;
    status.textContent = !stream
      ? 'Camera and microphone are not available. You can still join and see the others.'
      : hasVideo
        ? ''
        : 'No camera available: you will join with your microphone.';
    this.video.srcObject = hasVideo ? stream : null;
    if (hasVideo) this.video.play().catch(() => undefined);
    this.applyEnabled();
    if (stream?.getAudioTracks().length) this.startMeter(stream);
    await this.refreshPickers();
  }

  private async refreshPickers(): Promise<void> {
    const prefs = loadPrefs();
    const current = (kind: 'camera' | 'microphone'): string | null => {
      const track = kind === 'camera' ? this.stream?.getVideoTracks()[0] : this.stream?.getAudioTracks()[0];
      return track?.getSettings().deviceId ?? prefs[kind];
    };
    fillPicker(this.pickers.camera, await listDevices('camera'), current('camera'), 'Camera');
    fillPicker(this.pickers.microphone, await listDevices('microphone'), current('microphone'), 'Microphone');
    if (canPickSpeaker()) fillPicker(this.pickers.speaker, await listDevices('speaker'), prefs.speaker, 'Speaker');
  }

  private toggle(which: 'camOn' | 'micOn'): void {
    const prefs = loadPrefs();
    savePrefs({ [which]: !prefs[which] });
    this.renderToggles();
    this.applyEnabled();
  }

  private applyEnabled(): void {
    const prefs = loadPrefs();
    for (const track of this.stream?.getVideoTracks() ?? []) track.enabled = prefs.camOn;
    $('preview-off').hidden = prefs.camOn && !!this.stream?.getVideoTracks().length;
  }

  private renderToggles(): void {
    const prefs = loadPrefs();
    const cam = $<HTMLButtonElement>('pre-cam');
    cam.setAttribute('aria-pressed', String(!prefs.camOn));
    cam.querySelector('.ctl-label')!.textContent = prefs.camOn ? 'Camera on' : 'Camera off';
    setIcon(cam, prefs.camOn ? 'cam' : 'cam-off');
    const mic = $<HTMLButtonElement>('pre-mic');
    mic.setAttribute('aria-pressed', String(!prefs.micOn));
    mic.querySelector('.ctl-label')!.textContent = prefs.micOn ? 'Mic on' : 'Mic off';
    setIcon(mic, prefs.micOn ? 'mic' : 'mic-off');
  }

  /** RMS of the microphone, shown as a bar (and as aria-valuenow for tests and screen readers). */
  private startMeter(stream: MediaStream): void {
    const Ctx = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!Ctx) return;
    const audio = new Ctx();
    this.audio = audio;
    const analyser = audio.createAnalyser();
    analyser.fftSize = 512;
    audio.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const tick = (): void => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      const rms = Math.sqrt(sum / samples.length);
      this.setLevel(loadPrefs().micOn ? Math.min(100, Math.round(rms * 300)) : 0);
      this.meterFrame = requestAnimationFrame(tick);
    };
    void audio.resume().catch(() => undefined);
    tick();
  }

  private setLevel(level: number): void {
    const meter = $('mic-meter');
    if (meter.getAttribute('aria-valuenow') === String(level)) return;
    meter.setAttribute('aria-valuenow', String(level));
    meter.style.setProperty('--level', `${level}%`);
  }
}
