/**
 * What the other side sends, arranged for the stage: their streams as tracks arrive, and
 * their media state from the data channel, turned into one layout (a screen share is the
 * big video, the camera goes beside it) with plain words for when there is no video.
 */
import type { PeerState } from './call-channel.js';
import type { RemoteView } from './stage.js';

/** The live video track of a stream, preferring one that is receiving (not muted). */
function liveVideo(stream: MediaStream | null | undefined): MediaStreamTrack | undefined {
  const live = stream?.getVideoTracks().filter((t) => t.readyState === 'live') ?? [];
  return live.find((t) => !t.muted) ?? live[0];
}

export class RemoteMedia {
  private readonly streams = new Map<string, MediaStream>();
  private looseStream: MediaStream | null = null;
  private readonly views = new Map<string, MediaStream>();
  private peerState: PeerState | null = null;

  /** `changed` fires whenever the layout may differ: a track arrived, muted, unmuted or ended, or the state changed. */
  constructor(private readonly changed: () => void) {}

  handleTrack(track: MediaStreamTrack, streams: MediaStream[]): void {
    let stream = streams[0];
    if (!stream) {
      this.looseStream ??= new MediaStream();
      if (!this.looseStream.getTracks().includes(track)) this.looseStream.addTrack(track);
      stream = this.looseStream;
    }
    if (!this.streams.has(stream.id)) {
      this.streams.set(stream.id, stream);
      const changed = (): void => this.changed();
      stream.addEventListener('addtrack', changed);
      stream.addEventListener('removetrack', changed);
    }
    for (const name of ['mute', 'unmute', 'ended']) track.addEventListener(name, () => this.changed());
    this.changed();
  }

  handlePeerState(state: PeerState): void {
    this.peerState = state;
    this.changed();
  }

  /** `attached`: the call is up (before that, the stage says it is connecting). */
  layout(peerName: string, attached: boolean): RemoteView {
    const state = this.peerState;
    const screenId = state?.screen ?? null;
    let screen = screenId ? this.streams.get(screenId) : undefined;
    if (screen && !liveVideo(screen)) screen = undefined;
    const camera = [...this.streams.values()].find((s) => s.id !== screenId && s.getTracks().some((t) => t.readyState === 'live')) ?? null;
    const audio = [...this.streams.values()].flatMap((s) => s.getAudioTracks()).filter((t) => t.readyState === 'live');
    const camOff = state ? !state.hasVideo || !state.cam : false;
    const mainTrack = liveVideo(screen ?? camera);
    const showVideo = !!mainTrack && !mainTrack.muted && (!!screen || !camOff);
    let placeholder = '';
    if (!showVideo) {
      if (!attached) placeholder = `Connecting to ${peerName}…`;
      else if (state && !state.hasVideo) placeholder = state.hasAudio ? `${peerName} joined without a camera` : `${peerName} is not sending audio or video`;
      else if (camOff) placeholder = `${peerName} turned their camera off`;
      else placeholder = 'Waiting for video…';
    }
    return {
      main: this.view(mainTrack),
      side: screen && !camOff ? this.view(liveVideo(camera)) : null,
      audio,
      showVideo,
      placeholder,
      muted: !!state && state.hasAudio && !state.mic,
      sharing: !!screen,
      camOff,
    };
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
}
