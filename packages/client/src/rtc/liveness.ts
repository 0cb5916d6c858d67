/**
 * A heartbeat over the control channel, for stacks that never report `disconnected`
 * (libdatachannel notices a dead path only by ICE consent freshness, after about 30 s).
 * Every `intervalMs` it sends a ping; when nothing at all has been heard from the peer
 * for `silenceMs`, the path counts as down until the next message arrives. The peer
 * answers pings whatever its platform, so one side running this is enough.
 *
 * "Heard" also counts any growth of `activity()` (bytes received on the transport, where the
 * stack tells; libdatachannel counts message payloads only, not acknowledgements), and a send
 * queue that moves under a ping: when the ping had to wait behind a full send buffer
 * (`pingQueued()`) and `sent()` grew by the next tick, the peer acknowledged data, since SCTP
 * frees buffer space only for that. A peer that sends nothing while it receives a file answers
 * pings only after the chunks queued before them, seconds late on a slow path or a busy
 * receiver; the moving queue shows the path alive meanwhile. On a dead path it stays full.
 */
export interface LivenessOptions {
  intervalMs: number;
  silenceMs: number;
}

export const NODE_LIVENESS: LivenessOptions = { intervalMs: 1_000, silenceMs: 2_500 };

export class ControlLiveness {
  private lastHeard = Date.now();
  private timer: ReturnType<typeof setInterval> | undefined;
  private silentNow = false;
  private lastActivity = 0;
  /** `sent()` right after a ping that had to wait in the send queue; null when it did not. */
  private sentWhenQueued: number | null = null;

  constructor(
    private readonly options: LivenessOptions,
    private readonly actions: {
      ping(): void;
      change(silent: boolean): void;
      activity?: () => number;
      /** Bytes handed to the transport so far, and whether the last ping waits in the send queue. */
      sent?: () => number;
      pingQueued?: () => boolean;
    },
  ) {}

  get silent(): boolean {
    return this.silentNow;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.lastHeard = Date.now();
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    // A call keeps the process alive through its peer connection, not through this timer.
    (this.timer as { unref?: () => void }).unref?.();
  }

  heard(): void {
    this.lastHeard = Date.now();
    if (this.silentNow) {
      this.silentNow = false;
      this.actions.change(false);
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const activity = this.actions.activity?.() ?? 0;
    const queueMoved = this.sentWhenQueued !== null && (this.actions.sent?.() ?? 0) > this.sentWhenQueued;
    if (activity !== this.lastActivity || queueMoved) {
      this.lastActivity = activity;
      this.heard();
    }
    if (!this.silentNow && Date.now() - this.lastHeard >= this.options.silenceMs) {
      this.silentNow = true;
      this.actions.change(true);
    }
    this.actions.ping();
    this.sentWhenQueued = this.actions.pingQueued?.() ? (this.actions.sent?.() ?? null) : null;
  }
}
