/**
 * A heartbeat over the control channel, for stacks that never report `disconnected`
 * (libdatachannel notices a dead path only by ICE consent freshness, after about 30 s).
 * Every `intervalMs` it sends a ping; when nothing at all has been heard from the peer
 * for `silenceMs`, the path counts as down until the next message arrives. The peer
 * answers pings whatever its platform, so one side running this is enough.
 *
 * "Heard" also counts any growth of `activity()` (bytes received on the transport, where the
 * stack tells): on a slow path a ping may wait behind megabytes of a file in the send buffer,
 * while the peer's acknowledgements keep arriving.
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

  constructor(
    private readonly options: LivenessOptions,
    private readonly actions: { ping(): void; change(silent: boolean): void; activity?: () => number },
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
    if (activity !== this.lastActivity) {
      this.lastActivity = activity;
      this.heard();
    }
    if (!this.silentNow && Date.now() - this.lastHeard >= this.options.silenceMs) {
      this.silentNow = true;
      this.actions.change(true);
    }
    this.actions.ping();
  }
}
