/**
 * Changing camera or microphone during a call: a new track from the chosen device replaces the
 * old one on its RTCRtpSender (`replaceTrack`: no renegotiation, the other side keeps the same
 * stream), and the local preview follows. A track that ends by itself (the device was unplugged
 * or taken away) falls back to another device of its kind, and the user is told.
 */
import { constraintsFor, deviceOf, listDevices, savePrefs } from './devices.js';
import { toast } from './toast.js';

type Kind = 'camera' | 'microphone';

const noun = (kind: Kind): string => (kind === 'camera' ? 'camera' : 'microphone');

export class LocalDevices {
  private stopped = false;
  private readonly watched = new WeakSet<MediaStreamTrack>();

  /** `changed` fires after a switch or a loss: controls and the preview re-render. */
  constructor(
    private readonly stream: MediaStream | null,
    private readonly pc: () => RTCPeerConnection | null,
    private readonly changed: () => void,
  ) {
    for (const track of stream?.getTracks() ?? []) this.watch(track);
  }

  stop(): void {
    this.stopped = true;
  }

  current(kind: Kind): MediaStreamTrack | undefined {
    return kind === 'camera' ? this.stream?.getVideoTracks()[0] : this.stream?.getAudioTracks()[0];
  }

  /** Switches `kind` to `deviceId`; false when the call has no such track or the device would not start. */
  async use(kind: Kind, deviceId: string): Promise<boolean> {
    const old = this.current(kind);
    if (!this.stream || !old || this.stopped) return false;
    if (old.readyState === 'live' && deviceOf(old) === deviceId) return true;
    let fresh: MediaStream;
    try {
      const constraints = constraintsFor(kind, deviceId);
      fresh = await navigator.mediaDevices.getUserMedia(kind === 'camera' ? { video: constraints } : { audio: constraints });
    } catch {
      return false;
    }
    const track = kind === 'camera' ? fresh.getVideoTracks()[0] : fresh.getAudioTracks()[0];
    if (!track || this.stopped) {
      for (const t of fresh.getTracks()) t.stop();
      return false;
    }
    track.enabled = old.enabled; // muted stays muted
    const sender = this.pc()
      ?.getSenders()
      .find((s) => s.track === old);
    try {
      await sender?.replaceTrack(track);
    } catch {
      track.stop();
      return false;
    }
    this.stream.removeTrack(old);
    this.stream.addTrack(track);
    old.stop();
    this.watch(track);
    savePrefs({ [kind]: deviceOf(track) ?? deviceId });
    this.changed();
    return true;
  }

  private watch(track: MediaStreamTrack): void {
    if (this.watched.has(track)) return;
    this.watched.add(track);
    track.addEventListener('ended', () => void this.lost(track));
  }

  /** The device went away: try the others of its kind, default first. */
  private async lost(track: MediaStreamTrack): Promise<void> {
    if (this.stopped) return;
    const kind: Kind = track.kind === 'video' ? 'camera' : 'microphone';
    if (this.current(kind) !== track) return;
    const gone = deviceOf(track);
    const others = (await listDevices(kind)).filter((d) => d.deviceId !== gone);
    for (const device of others) {
      if (await this.use(kind, device.deviceId)) {
        toast(`Your ${noun(kind)} stopped working (unplugged?). Switched to ${device.label || `another ${noun(kind)}`}.`, 'warn');
        return;
      }
    }
    toast(`Your ${noun(kind)} stopped working and no other ${noun(kind)} was found. The call goes on without it.`, 'warn');
    this.changed();
  }
}
