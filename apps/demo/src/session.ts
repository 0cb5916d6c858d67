/**
 * One call, from "connecting" to "ended": local media, remote tracks, the data
 * channel (chat and a little state: muted, camera off, which stream is a screen),
 * screen share by adding/removing a track (the SDK renegotiates), connection
 * state and the quality readout.
 */
import type { ChatPanel } from './chat.js';
import { stopStream, type LocalMedia } from './media.js';
import type { RTCEvent, RTCResolved } from './sdk.js';
import type { Stage } from './stage.js';
import { QualityMeter, type Quality } from './stats.js';
import { toast } from './toast.js';

export interface Peer {
  cid: string;
  user_id: string;
  name: string;
}

interface PeerState { mic: boolean; cam: boolean; hasAudio: boolean; hasVideo: boolean; screen: string | null }

type Wire =
  | { t: 'chat'; id: string; text: string; ts: number }
  | ({ t: 'state' } & PeerState);

const CHANNEL = 'default';

function newId(): string {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export class CallSession {
  rtc: RTCResolved | null = null;
  ended = false;
  quality: Quality | null = null;

  private channel: RTCDataChannel | null = null;
  private readonly outbox: string[] = [];
  private micOn = true;
  private camOn = true;
  private screen: MediaStream | null = null;
  private screenSender: RTCRtpSender | null = null;
  private readonly remote = new Map<string, MediaStream>();
  private looseStream: MediaStream | null = null;
  private readonly views = new Map<string, MediaStream>();
  private peerState: PeerState | null = null;
  private eventPcState = 'new';
  private eventIceState = 'new';
  private wasConnected = false;
  private connectedAt: number | null = null;
  private statsTimer: number | undefined;
  private readonly disposers: (() => void)[] = [];

  /** Pass as the connectRTC callback: it sees every RTC and data-channel event of this call. */
  readonly handler = (event: RTCEvent): void => this.onEvent(event);

  constructor(
    readonly peer: Peer,
    private readonly local: LocalMedia,
    private readonly stage: Stage,
    private readonly chat: ChatPanel,
    private readonly onEnded: (session: CallSession, message: string) => void,
  ) {}

  get callId(): string | null {
    return this.rtc?.call ?? null;
  }

  get hasAudio(): boolean {
    return (this.local.stream?.getAudioTracks().length ?? 0) > 0;
  }

  get hasVideo(): boolean {
    return (this.local.stream?.getVideoTracks().length ?? 0) > 0;
  }

  /** Opens the call screen (before the connection is up, so accepting feels instant). */
  show(): void {
    this.stage.open(this.peer.name, this.peer.user_id, {
      mic: () => this.toggleMic(),
      cam: () => this.toggleCam(),
      screen: () => void this.toggleScreen(),
      hangup: () => this.hangup(),
    });
    this.refreshLocal();
    this.relayout();
    this.chat.start((text) => this.sendChat(text));
    if (this.local.mode === 'microphone') this.chat.system('You joined with your microphone only.');
    if (this.local.mode === 'none') this.chat.system('You joined without camera or microphone. You can still see, hear and chat.');
  }

  attach(rtc: RTCResolved): void {
    if (this.ended) return;
    this.rtc = rtc;
    const pc = rtc.target;
    const onState = (): void => this.updateState();
    pc.addEventListener('connectionstatechange', onState);
    pc.addEventListener('iceconnectionstatechange', onState);
    this.disposers.push(() => {
      pc.removeEventListener('connectionstatechange', onState);
      pc.removeEventListener('iceconnectionstatechange', onState);
    });
    const channel = rtc.channels[CHANNEL];
    if (channel) this.useChannel(channel);
    this.ensureReceiving(pc);
    const meter = new QualityMeter(pc);
    this.statsTimer = window.setInterval(() => {
      meter.sample().then((q) => {
        if (this.ended) return;
        this.quality = q;
        this.stage.setQuality(q);
      }).catch(() => undefined);
    }, 1000);
    this.updateState();
    this.relayout();
  }

  /** True while we are hanging up ourselves (the SDK reports our own hang-up as `rtc:closed` too). */
  hangingUp = false;

  hangup(): void {
    if (this.ended) return;
    this.hangingUp = true;
    try {
      this.rtc?.hangup();
    } catch {
      // already closed
    }
    this.end(this.endedText('Call ended'));
  }

  /** Tears the call down locally (the SDK already knows it is over) and tells the app. */
  end(message: string): void {
    if (this.ended) return;
    this.ended = true;
    window.clearInterval(this.statsTimer);
    for (const dispose of this.disposers.splice(0)) dispose();
    stopStream(this.screen);
    this.screen = null;
    // The stream is ours (we passed a MediaStream), so we stop it; the SDK only stops what it opened.
    stopStream(this.local.stream);
    this.chat.stop();
    this.stage.close();
    this.onEnded(this, message);
  }

  endedText(prefix: string): string {
    return this.connectedAt === null ? `${prefix}.` : `${prefix} · ${formatDuration(Date.now() - this.connectedAt)}`;
  }

  // ------------------------------------------------------------ events from the SDK

  private onEvent(event: RTCEvent): void {
    if (this.ended) return;
    switch (event.type) {
      case 'track':
        if (event.track instanceof MediaStreamTrack) this.onTrack(event.track, Array.isArray(event.streams) ? (event.streams as MediaStream[]) : []);
        break;
      case 'connectionstatechange':
        if (typeof event.state === 'string') this.eventPcState = event.state;
        this.updateState();
        break;
      case 'iceconnectionstatechange':
        if (typeof event.state === 'string') this.eventIceState = event.state;
        this.updateState();
        break;
      case 'open':
        if (event.target instanceof RTCDataChannel) this.useChannel(event.target);
        break;
      case 'message': {
        const label = typeof event.label === 'string' ? event.label : event.target instanceof RTCDataChannel ? event.target.label : CHANNEL;
        if (label === CHANNEL) this.onWire(event.data);
        break;
      }
      case 'close':
        if (event.target === this.channel) this.channel = null;
        break;
      default:
        break;
    }
  }

  private updateState(): void {
    if (this.ended) return;
    const pc = this.rtc?.target;
    const state = pc?.connectionState ?? this.eventPcState;
    const ice = pc?.iceConnectionState ?? this.eventIceState;
    if (state === 'closed') return;
    if (state === 'connected' && ice !== 'checking' && ice !== 'disconnected' && ice !== 'failed') {
      if (!this.wasConnected) {
        this.wasConnected = true;
        this.connectedAt = Date.now();
      }
      this.stage.setState('connected');
    } else if (this.wasConnected) {
      this.stage.setState('reconnecting');
    } else if (state === 'failed') {
      this.stage.setState('failed', 'Trying another route…');
    } else {
      this.stage.setState('connecting');
    }
  }

  /** A call with no local media has no m-lines: ask to receive audio and video (the SDK renegotiates). */
  private ensureReceiving(pc: RTCPeerConnection): void {
    for (const kind of ['audio', 'video'] as const) {
      if (!pc.getTransceivers().some((t) => t.receiver.track.kind === kind)) {
        try {
          pc.addTransceiver(kind, { direction: 'recvonly' });
        } catch {
          // not supported by this peer connection: nothing to receive then
        }
      }
    }
  }

  // ------------------------------------------------------------ remote media

  private onTrack(track: MediaStreamTrack, streams: MediaStream[]): void {
    let stream = streams[0];
    if (!stream) {
      this.looseStream ??= new MediaStream();
      if (!this.looseStream.getTracks().includes(track)) this.looseStream.addTrack(track);
      stream = this.looseStream;
    }
    if (!this.remote.has(stream.id)) {
      this.remote.set(stream.id, stream);
      const relayout = (): void => this.relayout();
      stream.addEventListener('addtrack', relayout);
      stream.addEventListener('removetrack', relayout);
    }
    for (const name of ['mute', 'unmute', 'ended']) track.addEventListener(name, () => this.relayout());
    this.relayout();
  }

  /** A one-track stream per remote video track, so a <video> never picks a dead sibling track. */
  private view(track: MediaStreamTrack | undefined): MediaStream | null {
    if (!track) return null;
    let stream = this.views.get(track.id);
    if (!stream) {
      stream = new MediaStream([track]);
      this.views.set(track.id, stream);
    }
    return stream;
  }

  private relayout(): void {
    if (this.ended) return;
    // The live video track of a stream, preferring one that is receiving (not muted).
    const liveVideo = (s: MediaStream | null | undefined): MediaStreamTrack | undefined => {
      const live = s?.getVideoTracks().filter((t) => t.readyState === 'live') ?? [];
      return live.find((t) => !t.muted) ?? live[0];
    };
    const screenId = this.peerState?.screen ?? null;
    let screen = screenId ? this.remote.get(screenId) : undefined;
    if (screen && !liveVideo(screen)) screen = undefined;
    const camera = [...this.remote.values()].find((s) => s.id !== screenId && s.getTracks().some((t) => t.readyState === 'live')) ?? null;
    const audio = [...this.remote.values()].flatMap((s) => s.getAudioTracks()).filter((t) => t.readyState === 'live');
    const camOff = this.peerState ? !this.peerState.hasVideo || !this.peerState.cam : false;
    const mainTrack = liveVideo(screen ?? camera);
    const showVideo = !!mainTrack && !mainTrack.muted && (!!screen || !camOff);
    const name = this.peer.name;
    let placeholder = '';
    if (!showVideo) {
      if (!this.rtc) placeholder = `Connecting to ${name}…`;
      else if (this.peerState && !this.peerState.hasVideo) placeholder = this.peerState.hasAudio ? `${name} joined without a camera` : `${name} is not sending audio or video`;
      else if (camOff) placeholder = `${name} turned their camera off`;
      else placeholder = 'Waiting for video…';
    }
    this.stage.setRemote({
      main: this.view(mainTrack),
      side: screen && !camOff ? this.view(liveVideo(camera)) : null,
      audio,
      showVideo,
      placeholder,
      muted: !!this.peerState && this.peerState.hasAudio && !this.peerState.mic,
      sharing: !!screen,
    });
  }

  // ------------------------------------------------------------ data channel

  private useChannel(channel: RTCDataChannel): void {
    if (channel.label !== CHANNEL || this.channel === channel) return;
    this.channel = channel;
    if (channel.readyState === 'open') this.flush();
    else channel.addEventListener('open', () => this.flush(), { once: true });
  }

  private flush(): void {
    if (this.ended) return;
    this.sendState();
    while (this.outbox.length && this.channel?.readyState === 'open') this.channel.send(this.outbox.shift()!);
  }

  private send(message: Wire): boolean {
    const text = JSON.stringify(message);
    const channel = this.channel ?? this.rtc?.channels[CHANNEL] ?? null;
    if (channel && channel.readyState === 'open') {
      try {
        channel.send(text);
        return true;
      } catch {
        // fall through to the outbox
      }
    }
    if (message.t === 'chat') this.outbox.push(text);
    return false;
  }

  private onWire(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const m = message as Partial<Wire> & Record<string, unknown>;
    if (m.t === 'chat' && typeof m.text === 'string') {
      this.chat.add(m.text.slice(0, 2000), this.peer.name, false, typeof m.ts === 'number' ? m.ts : Date.now());
    } else if (m.t === 'state') {
      this.peerState = {
        mic: m.mic !== false,
        cam: m.cam !== false,
        hasAudio: m.hasAudio !== false,
        hasVideo: m.hasVideo !== false,
        screen: typeof m.screen === 'string' ? m.screen : null,
      };
      this.relayout();
    }
  }

  private sendChat(text: string): void {
    this.chat.add(text, 'You', true);
    if (!this.send({ t: 'chat', id: newId(), text, ts: Date.now() })) this.chat.system('Will send when the connection is ready…');
  }

  private sendState(): void {
    this.send({ t: 'state', mic: this.micOn, cam: this.camOn, hasAudio: this.hasAudio, hasVideo: this.hasVideo, screen: this.screen?.id ?? null });
  }

  // ------------------------------------------------------------ controls

  private refreshLocal(): void {
    this.stage.setLocal(this.local.stream, this.camOn, !!this.screen);
    this.stage.setControls({
      hasAudio: this.hasAudio,
      micOn: this.micOn,
      hasVideo: this.hasVideo,
      camOn: this.camOn,
      sharing: !!this.screen,
      canShare: typeof navigator.mediaDevices?.getDisplayMedia === 'function',
    });
  }

  private toggleMic(): void {
    if (!this.hasAudio) return;
    this.micOn = !this.micOn;
    for (const track of this.local.stream?.getAudioTracks() ?? []) track.enabled = this.micOn;
    this.refreshLocal();
    this.sendState();
  }

  private toggleCam(): void {
    if (!this.hasVideo) return;
    this.camOn = !this.camOn;
    for (const track of this.local.stream?.getVideoTracks() ?? []) track.enabled = this.camOn;
    this.refreshLocal();
    this.sendState();
  }

  private async toggleScreen(): Promise<void> {
    if (this.screen) {
      this.stopScreen();
      return;
    }
    if (!this.rtc) {
      toast('Screen sharing starts once the call is connected.');
      return;
    }
    let display: MediaStream;
    try {
      display = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name !== 'NotAllowedError' && name !== 'AbortError') toast('Could not share your screen.', 'error');
      return; // NotAllowedError: the user closed the picker
    }
    const track = display.getVideoTracks()[0];
    if (this.ended || !this.rtc || !track) {
      stopStream(display);
      return;
    }
    track.contentHint = 'detail';
    try {
      this.screenSender = this.rtc.target.addTrack(track, display);
    } catch {
      stopStream(display);
      toast('Could not share your screen in this call.', 'error');
      return;
    }
    this.screen = display;
    track.addEventListener('ended', () => this.stopScreen()); // "Stop sharing" in the browser's own UI
    this.refreshLocal();
    this.sendState();
  }

  private stopScreen(): void {
    if (!this.screen) return;
    const sender = this.screenSender;
    this.screenSender = null;
    if (sender && this.rtc && this.rtc.target.signalingState !== 'closed') {
      try {
        this.rtc.target.removeTrack(sender);
      } catch {
        // the connection is gone
      }
    }
    stopStream(this.screen);
    this.screen = null;
    this.refreshLocal();
    this.sendState();
  }
}
