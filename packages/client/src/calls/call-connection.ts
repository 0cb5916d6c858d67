/**
 * The peer connection side of one call: its current PeerSession, the renewals that
 * replace it (renewal.ts), the channels that outlive them, and the way its signals go
 * (the realtime connection, or the control channel while that is down). The call
 * (call.ts) decides what the events mean for the call's state.
 */
import { SwitchboardError } from '@switchboard/protocol';
import { CallChannels, NODE_LIVENESS, PeerSession, type ChannelSpec, type ControlMessage, type PeerSignal } from '../rtc/index.js';
import type { CallHost, RTCEvent } from '../types.js';
import { asError } from './reasons.js';
import { Renewal } from './renewal.js';
import type { CallPlan } from './validate.js';

/** What the connection needs from its call. */
export interface CallConnectionOwner {
  readonly host: CallHost;
  realtimeOpen(): boolean;
  /** Where signals go now: the peer's current cid and the call id. */
  address(): { cid: string; call: string };
  ended(): boolean;
  deliver(event: RTCEvent): void;
  control(message: ControlMessage): void;
  /** The control channel of the current peer connection closed a moment ago (and no renewal replaced it). */
  controlClosed(): void;
  /** The app closed `target` itself. */
  localClose(): void;
  health(health: 'connected' | 'reconnecting'): void;
  failed(error: SwitchboardError): void;
  /** The server says the peer's connection is gone and no control channel can reach it. */
  peerGone(): void;
  /** The server says the peer's connection is gone, but the control channel looks open: ask the peer. */
  peerUnreachable(): void;
  warn(text: string): void;
}

interface Renewed {
  generation: number;
  restarts: number;
  channels: ChannelSpec[];
  peerCanRestartIce: boolean | undefined;
}

export class CallConnection {
  session: PeerSession | null = null;
  /** The call's data channels, kept across renewals of its peer connection. */
  readonly channels = new CallChannels();
  private readonly renewal = new Renewal((generation, restarts) => this.renew(generation, true, restarts));
  private plan: CallPlan | null = null;
  private stream: MediaStream | null = null;
  /** Fixed for the call when its first peer connection is made, so a renewal keeps both sides' roles. */
  private polite = false;
  /** The peer connection this side renewed away from, open until the new one connects. */
  private retiring: PeerSession | null = null;
  /** The generation this side offered first (a renewal it started), until the peer answers. */
  private offered: number | null = null;

  constructor(private readonly owner: CallConnectionOwner) {}

  /** The call's first peer connection. */
  start(plan: CallPlan, stream: MediaStream | null, roles: { polite: boolean; initialOfferer: boolean }): void {
    this.plan = plan;
    this.stream = stream;
    this.polite = roles.polite;
    this.open(roles.initialOfferer);
  }

  /** A description or candidate from the peer: to the current peer connection, a new one, or nowhere. */
  handleSignal(signal: PeerSignal): void {
    const route = this.renewal.route(signal);
    if (route === 'newer') this.renew(signal.pc ?? 0, false, this.session?.restartCount ?? 0);
    else if (route === 'current' && this.bothRenewed(signal)) this.yieldRenewal();
    else if (signal.kind === 'description' && signal.description.type === 'answer') this.offered = null;
    if (route !== 'stale') this.session?.handleSignal(signal);
  }

  /**
   * Both sides started the same renewal (each saw the path die at about the same time): an
   * offer for the generation we offered ourselves. The impolite side ignores the polite side's
   * offer (perfect negotiation); the polite side drops its own new peer connection and answers
   * with a fresh one, rather than rolling back an offer, which libdatachannel does poorly.
   */
  private bothRenewed(signal: PeerSignal): boolean {
    return this.polite && this.offered !== null && signal.kind === 'description' && signal.description.type === 'offer' && (signal.pc ?? 0) === this.offered;
  }

  private yieldRenewal(): void {
    const mine = this.session!;
    this.offered = null;
    mine.supersede();
    void mine.close(0, { quiet: true });
    this.open(false, { generation: mine.generation, restarts: mine.restartCount, channels: this.channels.own(), peerCanRestartIce: mine.peerCanRestartIce });
  }

  /** Ends it all; `flushMs` gives a hang-up just sent on the control channel time to leave. */
  async close(flushMs: number): Promise<void> {
    this.renewal.dispose();
    this.closeRetiring();
    await this.session?.close(flushMs);
  }

  /** The call's current peer connection is replaced by one of `generation` (see renewal.ts). */
  private renew(generation: number, initiator: boolean, restarts: number): void {
    const old = this.session;
    if (this.owner.ended() || !old || generation <= this.renewal.generation) return;
    this.renewal.advanced(generation);
    old.supersede();
    this.closeRetiring();
    // The side that offers keeps its old peer connection until the new one connects; the side
    // that got the offer knows the peer has moved on and closes its old one at once.
    if (initiator) this.retiring = old;
    else void old.close(0, { quiet: true });
    this.offered = initiator ? generation : null;
    this.open(initiator, { generation, restarts, channels: this.channels.own(), peerCanRestartIce: old.peerCanRestartIce });
  }

  private closeRetiring(): void {
    void this.retiring?.close(0, { quiet: true });
    this.retiring = null;
  }

  private open(initialOfferer: boolean, renewed?: Renewed): void {
    const { platform, options } = this.owner.host;
    const plan = this.plan!;
    const session = new PeerSession({
      RTCPeerConnection: platform.RTCPeerConnection!,
      config: renewed ? plan.freshConfig() : plan.config,
      polite: this.polite,
      initialOfferer,
      channels: renewed?.channels ?? plan.channels,
      stream: this.stream,
      iceDisconnectGraceMs: options.iceDisconnectGraceMs,
      maxIceRestarts: options.maxIceRestarts,
      iceRestartTimeoutMs: options.iceRestartTimeoutMs ?? 10_000,
      generation: renewed?.generation ?? 0,
      callChannels: this.channels,
      canRestartIce: platform.canRestartIce !== false,
      peerCanRestartIce: renewed?.peerCanRestartIce,
      restartsSoFar: renewed?.restarts ?? 0,
      liveness: platform.reportsIceDisconnect === false ? NODE_LIVENESS : null,
    });
    this.session = session;
    this.wire(session);
  }

  private wire(session: PeerSession): void {
    const owner = this.owner;
    // A renewed-away peer connection is closed quietly; anything it still says is ignored.
    const current =
      <T>(fn: (value: T) => void) =>
      (value: T): void => {
        if (this.session === session) fn(value);
      };
    session.on(
      'event',
      current((e) => owner.deliver(e)),
    );
    session.on(
      'signal',
      current((s) => this.send(session, s)),
    );
    session.on(
      'control',
      current((m) => owner.control(m)),
    );
    session.on(
      'controlclose',
      current(() => {
        // A realtime hang-up sent just before may still be on its way: give it a moment.
        setTimeout(() => {
          if (this.session === session) owner.controlClosed();
        }, 250);
      }),
    );
    session.on(
      'localclose',
      current(() => owner.localClose()),
    );
    session.on(
      'health',
      current((health) => {
        owner.health(health);
        if (health === 'connected') {
          this.closeRetiring();
          this.offered = null;
        }
      }),
    );
    session.on(
      'renew',
      current(({ restarts }) => this.renewal.request(this.polite, restarts)),
    );
    session.on(
      'failed',
      current((error) => owner.failed(error)),
    );
    session.on('warning', (w) => owner.warn(`${w.message}: ${String(w.error)}`));
  }

  private send(session: PeerSession, signal: PeerSignal): void {
    if (!this.owner.realtimeOpen() && session.controlOpen) {
      session.sendControl({ t: 'signal', signal });
      return;
    }
    const { cid, call } = this.owner.address();
    this.owner.host.sendSignal(cid, call, signal).catch((error: unknown) => {
      if (this.owner.ended()) return;
      const gone = asError(error).code === 'RECIPIENT_NOT_FOUND';
      if (session.controlOpen) {
        session.sendControl({ t: 'signal', signal });
        if (gone) this.owner.peerUnreachable();
      } else if (gone) {
        this.owner.peerGone();
      }
    });
  }
}
