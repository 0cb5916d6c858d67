/**
 * Sharing our screen in a call: one more video track on each peer connection (the SDK
 * renegotiates), removed again when we stop or when the browser's own "Stop sharing" ends it.
 * A 1:1 call has one connection; a group call has one per member, and members who join while
 * we share get the screen too (`add`).
 */
import { stopStream } from './media.js';
import { toast } from './toast.js';

export class ScreenShare {
  private stream: MediaStream | null = null;
  private readonly senders = new Map<RTCPeerConnection, RTCRtpSender>();

  /** `changed` fires when sharing starts or stops: the controls and the other side need to know. */
  constructor(private readonly changed: () => void) {}

  get active(): boolean {
    return this.stream !== null;
  }

  /** The id the other side tells the screen from the camera by. */
  get streamId(): string | null {
    return this.stream?.id ?? null;
  }

  /** The screen itself (a group call shows it as a tile of its own). */
  get screen(): MediaStream | null {
    return this.stream;
  }

  /** Asks for a screen and adds it to `pcs`, unless the call ended while the picker was open. */
  async start(pcs: RTCPeerConnection | RTCPeerConnection[], callEnded: () => boolean): Promise<void> {
    let display: MediaStream;
    try {
      display = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name !== 'NotAllowedError' && name !== 'AbortError') toast('Could not share your screen.', 'error');
      return; // NotAllowedError: the user closed the picker
    }
    const track = display.getVideoTracks()[0];
    if (callEnded() || !track) {
      stopStream(display);
      return;
    }
    track.contentHint = 'detail';
    this.stream = display;
    const list = Array.isArray(pcs) ? pcs : [pcs];
    const added = list.filter((pc) => this.add(pc)).length;
    if (list.length > 0 && added === 0) {
      this.release();
      toast('Could not share your screen in this call.', 'error');
      return;
    }
    track.addEventListener('ended', () => this.stop()); // "Stop sharing" in the browser's own UI
    this.changed();
  }

  /** Sends the screen on one more connection (a member who joined while we share); false if it could not. */
  add(pc: RTCPeerConnection): boolean {
    const track = this.stream?.getVideoTracks()[0];
    if (!this.stream || !track || this.senders.has(pc) || pc.signalingState === 'closed') return false;
    try {
      this.senders.set(pc, pc.addTrack(track, this.stream));
      return true;
    } catch {
      return false;
    }
  }

  /** Forgets a connection that is gone. */
  drop(pc: RTCPeerConnection): void {
    this.senders.delete(pc);
  }

  stop(): void {
    if (!this.stream) return;
    for (const [pc, sender] of this.senders) {
      if (pc.signalingState === 'closed') continue;
      try {
        pc.removeTrack(sender);
      } catch {
        // the connection is gone
      }
    }
    this.release();
    this.changed();
  }

  /** Stops capturing without touching the connections: the call is over anyway. */
  release(): void {
    stopStream(this.stream);
    this.stream = null;
    this.senders.clear();
  }
}
