/** The in-call screen: videos, state pill, quality readout and the control bar. Pure view. */
import { DeviceMenu } from './device-menu.js';
import { loadPrefs, routeAudio } from './devices.js';
import { $, fillAvatar, isTyping, setIcon } from './dom.js';
import { formatRate, type Quality } from './stats.js';

export type CallState = 'connecting' | 'connected' | 'reconnecting' | 'failed';

export interface StageHandlers {
  mic(): void;
  cam(): void;
  screen(): void;
  hangup(): void;
}

export interface ControlsState {
  hasAudio: boolean;
  micOn: boolean;
  hasVideo: boolean;
  camOn: boolean;
  sharing: boolean;
  canShare: boolean;
}

export interface RemoteView {
  main: MediaStream | null;
  side: MediaStream | null;
  audio: MediaStreamTrack[];
  showVideo: boolean;
  placeholder: string;
  muted: boolean;
  sharing: boolean;
  /** The other side turned its camera off (or has none). */
  camOff: boolean;
}

function setSource(media: HTMLMediaElement, stream: MediaStream | null, onBlocked?: () => void): void {
  if (media.srcObject === stream) return;
  media.srcObject = stream;
  if (!stream) return;
  media.play().catch((error: unknown) => {
    // Autoplay with sound needs a user gesture; the video elements are muted, so only audio lands here.
    if (error instanceof DOMException && error.name === 'NotAllowedError') onBlocked?.();
  });
}

export class Stage {
  /** Camera, microphone and speaker pickers for the call on screen. */
  readonly devices = new DeviceMenu();
  private handlers: StageHandlers | null = null;
  private readonly root = $('stage');
  private readonly remoteVideo = $<HTMLVideoElement>('remote-video');
  private readonly sideVideo = $<HTMLVideoElement>('remote-side-video');
  private readonly remoteAudio = $<HTMLAudioElement>('remote-audio');
  private readonly localVideo = $<HTMLVideoElement>('local-video');
  private audioKey = '';

  constructor() {
    $('enable-sound').addEventListener('click', () => {
      $('enable-sound').hidden = true;
      this.remoteAudio.play().catch(() => ($('enable-sound').hidden = false));
    });
    $('btn-mic').addEventListener('click', () => this.handlers?.mic());
    $('btn-cam').addEventListener('click', () => this.handlers?.cam());
    $('btn-screen').addEventListener('click', () => this.handlers?.screen());
    $('btn-hangup').addEventListener('click', () => this.handlers?.hangup());
    document.addEventListener('keydown', (event) => {
      if (this.root.hidden || !this.handlers || isTyping(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (document.querySelector('dialog[open]')) return;
      if (event.key === 'm' || event.key === 'M') {
        event.preventDefault();
        this.handlers.mic();
      }
      if (event.key === 'v' || event.key === 'V') {
        event.preventDefault();
        this.handlers.cam();
      }
    });
  }

  get isOpen(): boolean {
    return !this.root.hidden;
  }

  /** `group`: the grid of a group call (group-grid.ts) replaces the 1:1 videos; hang up becomes leave. */
  open(peerName: string, peerKey: string, handlers: StageHandlers, mode: 'call' | 'group' = 'call'): void {
    this.handlers = handlers;
    this.root.dataset.mode = mode;
    $('btn-hangup').querySelector('.ctl-label')!.textContent = mode === 'group' ? 'Leave call' : 'Hang up';
    $('stage-peer').textContent = peerName;
    fillAvatar($('remote-avatar'), peerName, peerKey);
    this.setState('connecting');
    this.setQuality(null);
    this.setRemote({
      main: null,
      side: null,
      audio: [],
      showVideo: false,
      placeholder: `Connecting to ${peerName}…`,
      muted: false,
      sharing: false,
      camOff: false,
    });
    this.root.hidden = false;
    void this.setSpeaker(loadPrefs().speaker);
    for (const id of ['main', 'topbar']) {
      const el = id === 'topbar' ? document.querySelector<HTMLElement>('.topbar') : document.getElementById(id);
      if (el) el.inert = true;
    }
    document.title = `In call with ${peerName} · Switchboard`;
    $('btn-mic').focus();
  }

  /** Where the other person's audio plays (where the browser lets a page choose). */
  setSpeaker(deviceId: string | null): Promise<void> {
    return routeAudio(this.remoteAudio, deviceId);
  }

  close(): void {
    this.handlers = null;
    this.root.hidden = true;
    this.root.dataset.mode = 'call';
    $('btn-hangup').querySelector('.ctl-label')!.textContent = 'Hang up';
    for (const video of [this.remoteVideo, this.sideVideo, this.localVideo, this.remoteAudio]) video.srcObject = null;
    this.audioKey = '';
    $('enable-sound').hidden = true;
    const main = document.getElementById('main');
    if (main) main.inert = false;
    const top = document.querySelector<HTMLElement>('.topbar');
    if (top) top.inert = false;
    document.title = 'Switchboard';
  }

  setState(state: CallState, text?: string): void {
    const pill = $('call-state');
    const label = text ?? { connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', failed: 'Connection failed' }[state];
    pill.dataset.state = state;
    if (pill.textContent !== label) pill.textContent = label;
  }

  /** Only what is known is shown: "Measuring…" until the first sample, no placeholder dashes. */
  setQuality(q: Quality | null): void {
    const box = $('quality');
    box.dataset.level = q?.level ?? 'unknown';
    const level = q && q.level !== 'unknown' ? q.level : null;
    $('q-level').textContent = level ? level[0]!.toUpperCase() + level.slice(1) : 'Measuring…';
    const show = (id: string, text: string | null): void => {
      const el = $(id);
      el.hidden = text === null;
      el.textContent = text ?? '';
    };
    show('q-rtt', q?.rttMs != null ? `${q.rttMs} ms` : null);
    show('q-loss', q?.lossPct != null ? `${q.lossPct < 10 ? q.lossPct.toFixed(1) : Math.round(q.lossPct)}% loss` : null);
    show('q-rate', q?.inKbps != null ? `↓ ${formatRate(q.inKbps)}${q.outKbps != null ? ` ↑ ${formatRate(q.outKbps)}` : ''}` : null);
    show('q-res', q?.width && q.height ? `${q.width}×${q.height}${q.fps ? ` · ${Math.round(q.fps)} fps` : ''}` : null);
    const hint = $('quality-hint');
    hint.hidden = !q?.hint;
    if (hint.textContent !== (q?.hint ?? '')) hint.textContent = q?.hint ?? '';
    box.setAttribute(
      'aria-label',
      q
        ? `Connection quality ${q.level}: round trip ${q.rttMs ?? 'unknown'} ms, ${q.lossPct?.toFixed(1) ?? 'unknown'}% packet loss, ${formatRate(q.inKbps)} received`
        : 'Connection quality: measuring',
    );
  }

  setLocal(stream: MediaStream | null, camOn: boolean, sharing: boolean): void {
    const hasVideo = !!stream && stream.getVideoTracks().length > 0;
    setSource(this.localVideo, hasVideo ? stream : null);
    $('local-off').hidden = hasVideo && camOn;
    $('local-off').firstElementChild!.textContent = !stream ? 'Not sending' : hasVideo ? 'Camera off' : 'Microphone only';
    $('local-sharing').hidden = !sharing;
  }

  setControls(c: ControlsState): void {
    const mic = $<HTMLButtonElement>('btn-mic');
    mic.disabled = !c.hasAudio;
    mic.dataset.active = String(c.hasAudio && !c.micOn);
    mic.querySelector('.ctl-label')!.textContent = !c.hasAudio ? 'No mic' : c.micOn ? 'Mute' : 'Unmute';
    setIcon(mic, c.hasAudio && c.micOn ? 'mic' : 'mic-off');
    mic.title = !c.hasAudio ? 'No microphone in this call' : c.micOn ? 'Mute microphone (M)' : 'Unmute microphone (M)';

    const cam = $<HTMLButtonElement>('btn-cam');
    cam.disabled = !c.hasVideo;
    cam.dataset.active = String(c.hasVideo && !c.camOn);
    cam.querySelector('.ctl-label')!.textContent = !c.hasVideo ? 'No camera' : c.camOn ? 'Stop video' : 'Start video';
    setIcon(cam, c.hasVideo && c.camOn ? 'cam' : 'cam-off');
    cam.title = !c.hasVideo ? 'No camera in this call' : c.camOn ? 'Turn camera off (V)' : 'Turn camera on (V)';

    const screen = $<HTMLButtonElement>('btn-screen');
    screen.disabled = !c.canShare;
    screen.dataset.active = String(c.sharing);
    screen.querySelector('.ctl-label')!.textContent = c.sharing ? 'Stop sharing' : 'Share screen';
    screen.title = c.canShare ? (c.sharing ? 'Stop sharing your screen' : 'Share your screen') : 'Screen sharing is not available in this browser';
  }

  setRemote(r: RemoteView): void {
    setSource(this.remoteVideo, r.main);
    this.remoteVideo.classList.toggle('is-off', !r.showVideo);
    setSource(this.sideVideo, r.side);
    this.sideVideo.hidden = !r.side;
    const key = r.audio.map((t) => t.id).join(',');
    if (key !== this.audioKey) {
      this.audioKey = key;
      $('enable-sound').hidden = true;
      setSource(this.remoteAudio, r.audio.length ? new MediaStream(r.audio) : null, () => ($('enable-sound').hidden = false));
    }
    $('remote-placeholder').hidden = r.showVideo;
    $('remote-placeholder-text').textContent = r.placeholder;
    $('remote-muted').hidden = !r.muted;
    $('remote-sharing').hidden = !r.sharing;
  }
}
