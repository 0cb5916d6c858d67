/**
 * Sharing our screen in a call: one more video track on the peer connection (the SDK
 * renegotiates), removed again when we stop or when the browser's own "Stop sharing" ends it.
 */
import { stopStream } from './media.js';
import { toast } from './toast.js';

export class ScreenShare {
  private stream: MediaStream | null = null;
  private sender: RTCRtpSender | null = null;
  private pc: RTCPeerConnection | null = null;

  /** `changed` fires when sharing starts or stops: the controls and the other side need to know. */
  constructor(private readonly changed: () => void) {}

  get active(): boolean {
    return this.stream !== null;
  }

  /** The id the other side tells the screen from the camera by. */
  get streamId(): string | null {
    return this.stream?.id ?? null;
  }

  /** Asks for a screen and adds it to `pc`, unless the call ended while the picker was open. */
  async start(pc: RTCPeerConnection, callEnded: () => boolean): Promise<void> {
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
    try {
      this.sender = pc.addTrack(track, display);
    } catch {
      stopStream(display);
      toast('Could not share your screen in this call.', 'error');
      return;
    }
    this.pc = pc;
    this.stream = display;
    track.addEventListener('ended', () => this.stop()); // "Stop sharing" in the browser's own UI
    this.changed();
  }

  stop(): void {
    if (!this.stream) return;
    const sender = this.sender;
    this.sender = null;
    if (sender && this.pc && this.pc.signalingState !== 'closed') {
      try {
        this.pc.removeTrack(sender);
      } catch {
        // the connection is gone
      }
    }
    this.release();
    this.changed();
  }

  /** Stops capturing without touching the connection: the call is over anyway. */
  release(): void {
    stopStream(this.stream);
    this.stream = null;
  }
}
