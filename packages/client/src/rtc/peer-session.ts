/**
 * One peer connection, knowing nothing of the WebSocket: it emits `signal`s
 * (descriptions and candidates) and takes them in `handleSignal`; negotiation is
 * perfect negotiation (negotiation.ts). Around it: the app's data channels, the
 * control channel, ICE health and the restart policy (a restart, or a renewal where
 * a stack cannot restart in place: calls/renewal.ts).
 */
import { Emitter, SwitchboardError } from '@switchboard/protocol';
import { AppChannels, CallChannels, interceptPeer } from './app-channels.js';
import { createControlChannel, drain, parseControl, type ControlMessage, type PeerSignal } from './control.js';
import type { PeerSessionEvents, PeerSessionOptions } from './peer-session-types.js';
import * as ev from './events.js';
import { IceDiagnosis } from './ice-diagnosis.js';
import { IceRestartPolicy, type Health } from './ice-restart.js';
import { ControlLiveness } from './liveness.js';
import { PerfectNegotiation } from './negotiation.js';

/** Counters the Node SDK's peer connection adds (libdatachannel), read by the liveness check. */
type TransportCounters = RTCPeerConnection & { bytesReceived?: () => number; bytesSent?: () => number };

export type { PeerSessionEvents, PeerSessionOptions } from './peer-session-types.js';

export class PeerSession extends Emitter<PeerSessionEvents> {
  readonly pc: RTCPeerConnection;
  readonly polite: boolean;
  readonly channels: Record<string, RTCDataChannel>;
  private readonly appChannels: AppChannels;
  private readonly control: RTCDataChannel;
  private readonly policy: IceRestartPolicy;
  private readonly negotiation: PerfectNegotiation;
  private everConnected = false;
  /** What ICE saw (TURN configured, relay candidates, TURN errors), for the RTC_ICE_FAILED hint. */
  private readonly diagnosis: IceDiagnosis;
  private closed = false;
  /** Closing (a hang-up being flushed): pings go unanswered, so the peer does not take it for alive. */
  private closing = false;
  private superseded = false;
  private pings = 0;
  readonly generation: number;
  private peerIceRestart: boolean | undefined;
  private readonly liveness: ControlLiveness | null;

  constructor(private readonly options: PeerSessionOptions) {
    super();
    this.polite = options.polite;
    this.generation = options.generation ?? 0;
    this.peerIceRestart = options.peerCanRestartIce;
    this.appChannels = new AppChannels(
      options.callChannels ?? new CallChannels(),
      () => !this.closed && !this.superseded,
      (event) => this.emit('event', event),
    );
    this.channels = this.appChannels.record;
    this.liveness = options.liveness
      ? new ControlLiveness(options.liveness, {
          ping: () => this.sendControl({ t: 'ping', n: ++this.pings }),
          change: () => this.onHealth(),
          activity: () => (this.pc as TransportCounters).bytesReceived?.() ?? 0,
          sent: () => (this.pc as TransportCounters).bytesSent?.() ?? 0,
          pingQueued: () => this.control.readyState === 'open' && this.control.bufferedAmount > 0,
        })
      : null;
    const pc = new options.RTCPeerConnection(options.config);
    this.diagnosis = new IceDiagnosis(options.config);
    this.pc = pc;
    this.negotiation = new PerfectNegotiation(
      pc,
      { polite: options.polite, initialOfferer: options.initialOfferer },
      {
        live: () => !this.closed,
        description: (description) => this.emit('signal', this.tagged({ kind: 'description', description })),
        remoteCandidate: (line) => this.diagnosis.remote(line),
        warn: (message, error) => this.warn(message, error),
      },
    );
    this.policy = new IceRestartPolicy(
      { graceMs: options.iceDisconnectGraceMs, maxRestarts: options.maxIceRestarts, attemptTimeoutMs: options.iceRestartTimeoutMs },
      { restart: (n) => this.restartIce(n), fail: (n) => this.iceFailed(n) },
      options.restartsSoFar ?? 0,
    );
    this.attachPeerHandlers();
    this.control = createControlChannel(pc);
    this.attachControl();
    interceptPeer(pc, {
      channel: (channel, init) => this.appChannels.register(channel, init),
      closed: () => {
        if (!this.closed) this.emit('localclose', undefined);
      },
    });
    if (options.stream) for (const track of options.stream.getTracks()) pc.addTrack(track, options.stream);
    for (const spec of options.channels) pc.createDataChannel(spec.label, spec.init);
    if (options.initialOfferer) setTimeout(() => this.negotiation.kickOffer(), 0);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether the peer's stack can restart ICE in place (undefined until its control channel said). */
  get peerCanRestartIce(): boolean | undefined {
    return this.peerIceRestart;
  }

  get restartCount(): number {
    return this.policy.restartCount;
  }

  get controlOpen(): boolean {
    return !this.closed && this.control.readyState === 'open';
  }

  /** `connected` when the peer connection (or, without connectionState, ICE) is connected. */
  get isConnected(): boolean {
    return this.health() === 'connected';
  }

  handleSignal(signal: PeerSignal): void {
    if (!this.closed) this.negotiation.handleSignal(signal);
  }

  /** Sends a control message; false when the control channel is not open. */
  sendControl(message: ControlMessage): boolean {
    if (!this.controlOpen) return false;
    try {
      this.control.send(JSON.stringify(message));
      return true;
    } catch (error) {
      this.warn('control channel send failed', error);
      return false;
    }
  }

  /** Asks the other side over the control channel whether it is still there. */
  ping(timeoutMs: number): Promise<boolean> {
    const n = ++this.pings;
    if (!this.sendControl({ t: 'ping', n })) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, timeoutMs);
      const off = this.on('control', (message) => {
        if (message.t === 'pong' && message.n === n) {
          clearTimeout(timer);
          off();
          resolve(true);
        }
      });
    });
  }

  /**
   * A renewal replaced this peer connection: it stops restarting, pinging and touching the
   * call's channels, but stays open until closed, so that the peer's old one is not torn
   * down (and seen closing) before the new offer has reached it.
   */
  supersede(): void {
    this.superseded = true;
    this.policy.dispose();
    this.liveness?.stop();
  }

  /**
   * Closes the peer connection (idempotent). With `flushMs`, waits up to that long
   * for the control channel to deliver what was just sent (a hang-up) first.
   * Emits the synthetic `connectionstatechange` with state `closed`.
   */
  async close(flushMs = 0, { quiet = false } = {}): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    if (flushMs > 0 && this.control.readyState === 'open') {
      const started = Date.now();
      await drain(this.control, flushMs);
      const left = flushMs - (Date.now() - started);
      if (left > 0 && this.control.readyState === 'open') {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 150));
          this.control.addEventListener(
            'close',
            () => {
              clearTimeout(timer);
              resolve();
            },
            { once: true },
          );
        });
      }
    }
    if (this.closed) return;
    this.closed = true;
    this.policy.dispose();
    this.liveness?.stop();
    try {
      this.pc.close();
    } catch (error) {
      this.warn('close failed', error);
    }
    // Quiet: a renewal replaced this peer connection; the call (and the app's view of it) goes on.
    if (quiet) return;
    this.appChannels.closeAll();
    this.emit('event', ev.connectionStateEvent(this.pc, 'closed'));
  }

  // ------------------------------------------------------------ ICE

  /** Signals of a renewed peer connection name their generation; the first one's stay as they were. */
  private tagged(signal: PeerSignal): PeerSignal {
    return this.generation > 0 ? { ...signal, pc: this.generation } : signal;
  }

  private restartIce(attempt: number): void {
    if (this.closed) return;
    if (this.options.canRestartIce === false || this.peerIceRestart === false) {
      this.emit('renew', { restarts: attempt });
      return;
    }
    if (typeof this.pc.restartIce === 'function') {
      try {
        this.pc.restartIce();
        return;
      } catch (error) {
        this.warn('restartIce() is not supported here; trying an ICE-restart offer', error);
      }
    }
    // Older stacks: an explicit ICE-restart offer through the same perfect-negotiation path.
    void this.negotiation.restartOffer();
  }

  private iceFailed(restarts: number): void {
    if (this.closed) return;
    this.emit(
      'failed',
      new SwitchboardError(
        'RTC_ICE_FAILED',
        `No network path between the peers (ICE failed after ${restarts} restart${restarts === 1 ? '' : 's'}). ${this.diagnosis.hint()}`,
      ),
    );
  }

  // ------------------------------------------------------------ handlers

  private health(): Health {
    const state: string = this.pc.connectionState ?? this.pc.iceConnectionState;
    if (state === 'completed' || state === 'connected') return this.liveness?.silent ? 'disconnected' : 'connected';
    if (state === 'checking') return 'connecting';
    return state as Health;
  }

  private onHealth(): void {
    if (this.closed) return;
    const health = this.health();
    this.policy.update(health);
    if (health === 'connected') {
      this.everConnected = true;
      this.emit('health', 'connected');
    } else if (this.everConnected && (health === 'disconnected' || health === 'failed')) {
      this.emit('health', 'reconnecting');
    }
  }

  private attachPeerHandlers(): void {
    const pc = this.pc;
    const live =
      <T>(fn: (e: T) => void) =>
      (e: T): void => {
        if (!this.closed) fn(e);
      };
    pc.addEventListener(
      'negotiationneeded',
      live(() => {
        this.emit('event', ev.stateEvent(pc, 'negotiationneeded'));
        this.negotiation.negotiationNeeded();
      }),
    );
    pc.addEventListener(
      'icecandidate',
      live((e: RTCPeerConnectionIceEvent) => {
        if (e.candidate && e.candidate.candidate) {
          const c = e.candidate;
          // node-datachannel prefixes candidates with "a=" (an SDP attribute line); browsers reject that.
          const line = c.candidate.startsWith('a=') ? c.candidate.slice(2) : c.candidate;
          this.diagnosis.local(line);
          this.emit('event', { ...ev.candidateEvent(pc, c), candidate: line });
          this.emit(
            'signal',
            this.tagged({
              kind: 'candidate',
              candidate: { candidate: line, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex ?? null, usernameFragment: c.usernameFragment ?? null },
            }),
          );
        } else if (!e.candidate) {
          this.emit('event', ev.candidateEndEvent(pc));
          this.emit('signal', this.tagged({ kind: 'candidate', candidate: null }));
        }
      }),
    );
    pc.addEventListener(
      'icecandidateerror',
      live((e: Event) => {
        this.diagnosis.error(e as RTCPeerConnectionIceErrorEvent);
        this.emit('event', ev.candidateErrorEvent(pc, e as RTCPeerConnectionIceErrorEvent));
      }),
    );
    for (const type of ['iceconnectionstatechange', 'icegatheringstatechange', 'signalingstatechange'] as const) {
      pc.addEventListener(
        type,
        live(() => {
          this.emit('event', ev.stateEvent(pc, type));
          if (type === 'iceconnectionstatechange') this.onHealth();
        }),
      );
    }
    pc.addEventListener(
      'connectionstatechange',
      live(() => {
        // `closed` is reported once, by close() (some stacks also report the peer's close, and
        // more than once): the app sees it when the call ends, after its channels' `close`.
        if (pc.connectionState !== 'closed') this.emit('event', ev.connectionStateEvent(pc));
        this.onHealth();
      }),
    );
    pc.addEventListener(
      'track',
      live((e: RTCTrackEvent) => this.emit('event', ev.trackEvent(pc, e))),
    );
    pc.addEventListener(
      'datachannel',
      live((e: RTCDataChannelEvent) => {
        this.appChannels.register(e.channel);
      }),
    );
  }

  private attachControl(): void {
    const control = this.control;
    control.addEventListener('open', () => {
      if (this.closed) return;
      this.sendControl({ t: 'caps', iceRestart: this.options.canRestartIce !== false });
      this.liveness?.start();
      this.emit('controlopen', undefined);
    });
    control.addEventListener('close', () => {
      if (!this.closed) this.emit('controlclose', undefined);
    });
    control.addEventListener('message', (e: MessageEvent) => {
      if (this.closed) return;
      this.liveness?.heard();
      const message = parseControl(e.data);
      if (!message) return;
      if (message.t === 'ping' && !this.closing) this.sendControl({ t: 'pong', n: message.n });
      if (message.t === 'caps') this.peerIceRestart = message.iceRestart;
      if (message.t === 'signal') this.handleSignal(message.signal);
      this.emit('control', message);
    });
  }

  private warn(message: string, error: unknown): void {
    this.emit('warning', { message, error });
  }
}
