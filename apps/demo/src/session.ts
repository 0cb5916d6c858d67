/**
 * One call, from "connecting" to "ended": local media and its controls, connection state
 * and the quality readout. What the other side sends is arranged by RemoteMedia, chat and
 * media state travel over the CallChannel, and ScreenShare adds and removes the screen.
 */
import { CallChannel } from './call-channel.js';
import type { ChatPanel } from './chat.js';
import { loadPrefs, savePrefs, type DeviceKind } from './devices.js';
import { FILES_CHANNEL, FileShare } from './files.js';
import { formatDuration } from './history.js';
import { LocalDevices } from './local-devices.js';
import { stopStream, type LocalMedia } from './media.js';
import { RemoteMedia } from './remote-media.js';
import { ScreenShare } from './screen-share.js';
import type { RTCEvent, RTCResolved } from './sdk.js';
import type { Stage } from './stage.js';
import { QualityMeter, type Quality } from './stats.js';
import { toast } from './toast.js';

export interface Peer {
  cid: string;
  user_id: string;
  name: string;
}

export class CallSession {
  rtc: RTCResolved | null = null;
  ended = false;
  quality: Quality | null = null;

  // Off when the person chose so before joining (the tracks are there, disabled: one click turns them on).
  private micOn = loadPrefs().micOn;
  private camOn = loadPrefs().camOn;
  private readonly devices: LocalDevices;
  readonly files: FileShare;
  private readonly screenShare = new ScreenShare(() => {
    this.refreshLocal();
    this.sendState();
  });
  private readonly remote = new RemoteMedia(() => this.relayout());
  private readonly channel = new CallChannel({
    open: () => this.sendState(),
    chat: (text, ts) => this.chat.add(text, this.peer.name, false, ts),
    peerState: (state) => this.remote.handlePeerState(state),
    fileCancel: (id) => this.files.handleCancel(id),
  });
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
  ) {
    this.devices = new LocalDevices(
      local.stream,
      () => this.rtc?.target ?? null,
      () => {
        this.refreshLocal();
        this.sendState();
        void this.stage.devices.refresh();
      },
    );
    this.files = new FileShare(chat, peer.name, (m) => this.channel.sendFileCancel(m.id));
  }

  get callId(): string | null {
    return this.rtc?.call ?? null;
  }

  get hasAudio(): boolean {
    return (this.local.stream?.getAudioTracks().length ?? 0) > 0;
  }

  get hasVideo(): boolean {
    return (this.local.stream?.getVideoTracks().length ?? 0) > 0;
  }

  /** Our camera and microphone in this call (for tests: the track a device switch put in). */
  get localStream(): MediaStream | null {
    return this.local.stream;
  }

  /** How long the call has been connected (null if it never was). */
  get durationMs(): number | null {
    return this.connectedAt === null ? null : Date.now() - this.connectedAt;
  }

  /** Opens the call screen (before the connection is up, so accepting feels instant). */
  show(): void {
    this.stage.open(this.peer.name, this.peer.user_id, {
      mic: () => this.toggleMic(),
      cam: () => this.toggleCam(),
      screen: () => void this.toggleScreen(),
      hangup: () => this.hangup(),
    });
    for (const track of this.local.stream?.getAudioTracks() ?? []) track.enabled = this.micOn;
    for (const track of this.local.stream?.getVideoTracks() ?? []) track.enabled = this.camOn;
    this.stage.devices.attach({ current: (kind) => this.devices.current(kind), choose: (kind, id) => void this.chooseDevice(kind, id) });
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
    this.channel.attach(rtc.channels);
    const files = rtc.channels[FILES_CHANNEL];
    if (files) this.files.handleChannel(files, () => this.rtc?.target ?? null);
    this.ensureReceiving(pc);
    // A first sample now is the baseline, so the readout has rates (not dashes) from the first second.
    const meter = new QualityMeter(() => rtc.target);
    const sample = (): void => {
      meter
        .sample()
        .then((q) => {
          if (this.ended || q.inKbps === null) return;
          this.quality = q;
          this.stage.setQuality(q);
        })
        .catch(() => undefined);
    };
    sample();
    this.statsTimer = window.setInterval(sample, 1000);
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
    this.channel.stop();
    this.files.stop();
    this.devices.stop();
    this.stage.devices.attach(null);
    this.screenShare.release();
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
        if (event.track instanceof MediaStreamTrack) this.remote.handleTrack(event.track, Array.isArray(event.streams) ? (event.streams as MediaStream[]) : []);
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
        if (event.target instanceof RTCDataChannel) {
          this.channel.handleChannel(event.target);
          this.files.handleChannel(event.target, () => this.rtc?.target ?? null);
        }
        break;
      case 'message':
        this.channel.handleMessage(event);
        break;
      case 'close':
        this.channel.handleClose(event.target);
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

  private relayout(): void {
    if (this.ended) return;
    this.stage.setRemote(this.remote.layout(this.peer.name, this.rtc !== null));
  }

  private sendChat(text: string): void {
    this.chat.add(text, 'You', true);
    if (!this.channel.sendChat(text)) this.chat.system('Will send when the connection is ready…');
  }

  private sendState(): void {
    this.channel.sendState({ mic: this.micOn, cam: this.camOn, hasAudio: this.hasAudio, hasVideo: this.hasVideo, screen: this.screenShare.streamId });
  }

  // ------------------------------------------------------------ controls

  private refreshLocal(): void {
    this.stage.setLocal(this.local.stream, this.camOn, this.screenShare.active);
    this.stage.setControls({
      hasAudio: this.hasAudio,
      micOn: this.micOn,
      hasVideo: this.hasVideo,
      camOn: this.camOn,
      sharing: this.screenShare.active,
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

  private async chooseDevice(kind: DeviceKind, deviceId: string): Promise<void> {
    if (kind === 'speaker') {
      savePrefs({ speaker: deviceId || null });
      await this.stage.setSpeaker(deviceId || null);
      return;
    }
    if (!(await this.devices.use(kind, deviceId))) toast(`Could not switch to that ${kind}.`, 'warn');
    void this.stage.devices.refresh();
  }

  private async toggleScreen(): Promise<void> {
    if (this.screenShare.active) {
      this.screenShare.stop();
      return;
    }
    if (!this.rtc) {
      toast('Screen sharing starts once the call is connected.');
      return;
    }
    await this.screenShare.start(this.rtc.target, () => this.ended);
  }
}
