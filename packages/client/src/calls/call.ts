/**
 * One call, by call id: ringing → accepted → connected ↔ reconnecting → ended.
 *
 * The caller creates its peer connection when the callee's `accept` arrives and makes
 * the first offer; the callee creates its own when it accepts (so `rt.connectRTC`
 * resolves with a live `target`) and waits for that offer. Nothing is negotiated while
 * ringing, so an unanswered call costs no ICE gathering or TURN allocation, and signals
 * of other or older calls never reach this peer connection (each call has its own).
 *
 * Ending, whoever ends it and however: `rtc:closed` once, the caller's `connection`
 * settled, the tracks the SDK opened for this call stopped, the peer told (over the
 * control channel when it is open, and over the realtime connection).
 */
import { SwitchboardError, type RtcSignal, type ServerMessageOf } from '@switchboard/protocol';
import { CallChannels, NODE_LIVENESS, PeerSession, type ChannelSpec, type ControlMessage, type PeerSignal } from '../rtc/index.js';
import type { CallHost, RTCCallback, RTCConnector, RTCEvent, RTCReceiverParams, RTCResolved, RtcEndReason } from '../types.js';
import { openMedia, releaseMedia, type LocalMedia } from './media.js';
import { ABNORMAL, asError, endError, hangupReason } from './reasons.js';
import { checkCallback, checkParamsObject, planCall, type CallPlan } from './validate.js';
import { Renewal } from './renewal.js';
import { settledWithin } from './settled-within.js';

export type CallState = 'ringing' | 'accepted' | 'connected' | 'reconnecting' | 'ended';
export type CallDirection = 'outgoing' | 'incoming';
type RtcFrame = ServerMessageOf<'rtc'>;

/** What a call needs from its manager. */
export interface CallContext {
  host: CallHost;
  realtimeOpen(): boolean;
  ended(call: Call): void;
}

/** How long the peer may take to answer a control-channel ping before "peer_gone" is believed. */
export const PEER_PING_MS = 1500;
/** Extra time the callee rings past its own ring timeout before giving up by itself. */
export const CALLEE_RING_SLACK_MS = 5000;

export class Call {
  state: CallState = 'ringing';
  session: PeerSession | null = null;
  media: LocalMedia | null = null;
  readonly warnings: string[] = [];
  /** Labels the caller announced in its invite (the callee does not open them twice). */
  remoteLabels: string[] = [];
  remoteMedia: { audio: boolean; video: boolean } | null = null;
  readonly connector: RTCConnector | null;
  private cb: RTCCallback | null = null;
  private plan: CallPlan | null = null;
  private resolved: RTCResolved | null = null;
  private settle: { resolve: (r: RTCResolved) => void; reject: (e: SwitchboardError) => void } | null = null;
  private ringTimer: ReturnType<typeof setTimeout> | undefined;
  private closing: Promise<void> | null = null;
  /** The invite went out (an outgoing call waits for its media first). */
  private invited = false;
  /** Glare settled while our media was still opening: accept the peer's call once it is. */
  private adoptWhenReady = false;
  /** The call's data channels, kept across renewals of its peer connection. */
  private readonly callChannels = new CallChannels();
  private readonly renewal = new Renewal((generation, restarts) => this.renew(generation, true, restarts));
  /** Fixed for the call when its first peer connection is made, so a renewal keeps both sides' roles. */
  private polite: boolean | null = null;
  /** The peer connection this side renewed away from, open until the new one connects. */
  private retiring: PeerSession | null = null;

  constructor(
    private readonly ctx: CallContext,
    public id: string,
    public direction: CallDirection,
    readonly peer: { cid: string; user_id: string | null; name: string | null },
    public selfCid: string,
    readonly selfUser: string,
  ) {
    if (direction === 'outgoing') {
      const connection = new Promise<RTCResolved>((resolve, reject) => (this.settle = { resolve, reject }));
      connection.catch(() => undefined); // rejection is for whoever awaits it; never an unhandled rejection
      const call = this;
      this.connector = { hangup: () => call.hangup(), connection, get call() { return call.id; } };
    } else {
      this.connector = null;
    }
  }

  get live(): boolean {
    return this.state !== 'ended';
  }

  // ------------------------------------------------------------ outgoing

  /** Caller: media is open; send the invite and start ringing. */
  startOutgoing(plan: CallPlan, media: LocalMedia, cb: RTCCallback): void {
    if (this.state === 'ended') {
      releaseMedia(media);
      return;
    }
    this.plan = plan;
    this.media = media;
    this.cb = cb;
    if (this.adoptWhenReady) {
      this.finishAdoption();
      return;
    }
    this.invited = true;
    const invite: RtcSignal = { kind: 'invite', channels: plan.channels.map((c) => c.label) };
    if (media.kinds) invite.media = media.kinds;
    this.ctx.host.sendSignal(this.peer.cid, this.id, invite).catch((error: unknown) => {
      if (this.state !== 'ringing') return;
      const err = asError(error);
      if (err.code === 'RECIPIENT_NOT_FOUND') void this.end('peer_gone', 'peer', { error: new SwitchboardError('RTC_PEER_GONE', `No open connection ${this.peer.cid}: ${err.message}`) });
      else void this.end('error', 'self', { error: err });
    });
    const ms = this.ctx.host.options.ringTimeoutMs;
    this.ringTimer = setTimeout(() => {
      if (this.state === 'ringing') {
        void this.end('timeout', 'self', {
          notify: { kind: 'hangup', reason: 'timeout' },
          error: new SwitchboardError('RTC_TIMEOUT', `Nobody answered the call within ${ms} ms.`),
        });
      }
    }, ms);
  }

  /** connectRTC could not open the media: the call never started (no invite, no rtc:closed). */
  abandon(): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    clearTimeout(this.ringTimer);
    this.settle = null;
    this.ctx.ended(this);
  }

  /** Glare: our outgoing call loses to the peer's invite; we become the callee of theirs (see manager.ts). */
  adoptInvite(frame: RtcFrame): void {
    const oldId = this.id;
    if (this.invited) this.ctx.host.sendSignal(this.peer.cid, oldId, { kind: 'hangup', reason: 'cancelled' }).catch(() => undefined);
    clearTimeout(this.ringTimer);
    this.id = frame.call;
    this.direction = 'incoming';
    this.learnPeer(frame);
    if (frame.signal.kind === 'invite') {
      this.remoteLabels = frame.signal.channels ?? [];
      this.remoteMedia = frame.signal.media ?? null;
    }
    if (this.plan) this.finishAdoption();
    else this.adoptWhenReady = true; // startOutgoing finishes it
  }

  private finishAdoption(): void {
    this.plan!.channels = this.plan!.channels.filter((c) => !this.remoteLabels.includes(c.label));
    this.state = 'accepted';
    this.startSession(false);
    this.sendAccept();
    this.settle?.resolve(this.result());
  }

  // ------------------------------------------------------------ incoming

  startIncoming(frame: RtcFrame): void {
    this.learnPeer(frame);
    if (frame.signal.kind === 'invite') {
      this.remoteLabels = frame.signal.channels ?? [];
      this.remoteMedia = frame.signal.media ?? null;
    }
    this.armCalleeTimer();
  }

  /** Callee: `rt.connectRTC(params, cb)`. Resolves null when the call no longer rings. */
  async accept(params: RTCReceiverParams | undefined, cb: RTCCallback): Promise<RTCResolved | null> {
    checkCallback(cb);
    if (this.state !== 'ringing' || this.direction !== 'incoming') return null;
    const p = params ?? {};
    checkParamsObject(p);
    const plan = planCall(p, this.ctx.host, []);
    plan.channels = plan.channels.filter((c) => !this.remoteLabels.includes(c.label));
    this.state = 'accepted';
    clearTimeout(this.ringTimer);
    let media: LocalMedia;
    try {
      media = await openMedia(plan.media, this.ctx.host.platform);
    } catch (error) {
      // Nothing was sent yet: the call rings on, so the app may accept without media or decline.
      if (this.state === 'accepted') {
        this.state = 'ringing';
        this.armCalleeTimer();
      }
      throw error;
    }
    if (this.state !== 'accepted') {
      releaseMedia(media);
      return null;
    }
    this.plan = plan;
    this.media = media;
    this.cb = cb;
    this.startSession(false);
    this.sendAccept();
    return this.result();
  }

  // ------------------------------------------------------------ both

  /** The app hangs up: cancel (caller, ringing), decline (callee, ringing) or hang up. */
  hangup(reason?: 'rejected' | 'busy'): void {
    if (this.state === 'ended') return;
    if (this.state === 'ringing' && this.direction === 'incoming') {
      const why = reason === 'busy' ? 'busy' : 'rejected';
      void this.end(why, 'self', { notify: { kind: 'reject', reason: why } });
    } else if (this.state === 'ringing') {
      void this.end('cancelled', 'self', { notify: { kind: 'hangup', reason: 'cancelled' } });
    } else {
      void this.end('hangup', 'self', { notify: { kind: 'hangup', reason: 'hangup' } });
    }
  }

  /** closeRTC / closeRealtime: like hangup, and resolves once the peer was told and the connection closed. */
  close(): Promise<void> {
    this.hangup();
    return this.closing ?? Promise.resolve();
  }

  handleSignal(frame: RtcFrame): void {
    if (this.state === 'ended') return;
    if (frame.sender_cid !== this.peer.cid) {
      // A known peer whose realtime connection moved (it reconnected with a new cid).
      if (this.peer.user_id === null || frame.sender !== this.peer.user_id) return;
      this.peer.cid = frame.sender_cid;
    }
    this.learnPeer(frame);
    const signal = frame.signal;
    switch (signal.kind) {
      case 'accept':
        if (this.direction === 'outgoing' && this.state === 'ringing') this.onAccepted();
        return;
      case 'reject':
        if (this.direction === 'outgoing' && this.state === 'ringing') void this.end(signal.reason, 'peer');
        return;
      case 'hangup':
        void this.onPeerHangup(signal.reason ?? 'hangup');
        return;
      case 'description':
      case 'candidate': {
        const route = this.renewal.route(signal);
        if (route === 'newer') this.renew(signal.pc ?? 0, false, this.session?.restartCount ?? 0);
        if (route !== 'stale') this.session?.handleSignal(signal);
        return;
      }
      default:
        return;
    }
  }

  onRealtimeClosed(): void {
    if (this.state === 'ended') return;
    if (this.session?.controlOpen) return; // the call lives on; hang-ups travel over the control channel
    void this.end('error', 'self', {
      error: new SwitchboardError('CONNECTION_CLOSED', 'The realtime connection closed before the call was connected.'),
    });
  }

  onRealtimeOpen(cid: string): void {
    if (this.state === 'ended' || cid === this.selfCid) return;
    this.selfCid = cid;
    this.session?.sendControl({ t: 'cid', cid });
  }

  end(
    reason: RtcEndReason,
    by: 'self' | 'peer',
    opts: { notify?: RtcSignal; error?: SwitchboardError } = {},
  ): Promise<void> {
    if (this.state === 'ended') return this.closing ?? Promise.resolve();
    const was = this.state;
    this.state = 'ended';
    clearTimeout(this.ringTimer);
    this.renewal.dispose();
    this.closeRetiring();
    const error = opts.error ?? endError(reason, was === 'ringing');
    if (this.settle && !this.resolved) this.settle.reject(error);
    this.settle = null;
    const sends: Promise<unknown>[] = [];
    let viaControl = false;
    if (opts.notify) {
      const notify = opts.notify;
      if (notify.kind === 'hangup') viaControl = this.session?.sendControl({ t: 'hangup', reason: notify.reason ?? 'hangup' }) ?? false;
      if (this.ctx.realtimeOpen() || !viaControl) {
        sends.push(this.ctx.host.sendSignal(this.peer.cid, this.id, notify).catch(() => undefined));
      }
    }
    releaseMedia(this.media);
    this.ctx.ended(this);
    const session = this.session;
    this.closing = (async () => {
      await session?.close(viaControl ? 300 : 0);
      await settledWithin(Promise.all(sends), 1000);
    })();
    this.ctx.host.emitRealtime({
      type: 'rtc:closed',
      message: {
        hungup: by === 'self' ? this.selfUser : this.peer.user_id,
        reason,
        call: this.id,
        ...(opts.error || ABNORMAL.has(reason) ? { error } : {}),
      },
      sender: this.peer.user_id,
      sender_cid: this.peer.cid,
      sender_rid: null,
      code: null,
    });
    return this.closing;
  }

  /** Callee before accepting, or an existing call: what connectRTC for the same cid returns. */
  existingConnector(): RTCConnector {
    if (this.connector) return this.connector;
    const call = this;
    const connection = this.resolved ? Promise.resolve(this.resolved) : Promise.reject(new SwitchboardError('RTC_CANCELLED', 'The call is not connected.'));
    connection.catch(() => undefined);
    return { hangup: () => call.hangup(), connection, get call() { return call.id; } };
  }

  // ------------------------------------------------------------ internals

  private learnPeer(frame: RtcFrame): void {
    this.peer.user_id ??= frame.sender;
    this.peer.name ??= frame.sender_name;
  }

  private armCalleeTimer(): void {
    clearTimeout(this.ringTimer);
    this.ringTimer = setTimeout(() => {
      if (this.state === 'ringing') void this.end('timeout', 'peer');
    }, this.ctx.host.options.ringTimeoutMs + CALLEE_RING_SLACK_MS);
  }

  private onAccepted(): void {
    clearTimeout(this.ringTimer);
    this.state = 'accepted';
    this.startSession(true);
    this.settle?.resolve(this.result());
  }

  private async onPeerHangup(reason: string): Promise<void> {
    if (reason === 'peer_gone' && this.session?.controlOpen) {
      // The server saw the peer's realtime connection go; the call itself may be fine.
      if (await this.session.ping(PEER_PING_MS)) return;
    }
    void this.end(hangupReason(reason), 'peer');
  }

  private sendAccept(): void {
    this.ctx.host.sendSignal(this.peer.cid, this.id, { kind: 'accept' }).catch((error: unknown) => {
      if (this.state === 'ended' || this.session?.controlOpen) return;
      const err = asError(error);
      void this.end(err.code === 'RECIPIENT_NOT_FOUND' ? 'peer_gone' : 'error', err.code === 'RECIPIENT_NOT_FOUND' ? 'peer' : 'self');
    });
  }

  /** The call's current peer connection is replaced by one of `generation` (see renewal.ts). */
  private renew(generation: number, initiator: boolean, restarts: number): void {
    const old = this.session;
    if (this.state === 'ended' || !old || generation <= this.renewal.generation) return;
    this.renewal.advanced(generation);
    old.supersede();
    this.closeRetiring();
    // The side that offers keeps its old peer connection until the new one connects; the side
    // that got the offer knows the peer has moved on and closes its old one at once.
    if (initiator) this.retiring = old;
    else void old.close(0, { quiet: true });
    this.startSession(initiator, { generation, restarts, channels: this.callChannels.own(), peerCanRestartIce: old.peerCanRestartIce });
  }

  private closeRetiring(): void {
    void this.retiring?.close(0, { quiet: true });
    this.retiring = null;
  }

  private startSession(
    initialOfferer: boolean,
    renewal?: { generation: number; restarts: number; channels: ChannelSpec[]; peerCanRestartIce: boolean | undefined },
  ): void {
    const host = this.ctx.host;
    const plan = this.plan!;
    // Polite rule: the side with the lexicographically smaller cid (when the first peer
    // connection is made) is polite. Both sides compute it from the same two cids.
    this.polite ??= this.selfCid < this.peer.cid;
    const session = new PeerSession({
      RTCPeerConnection: host.platform.RTCPeerConnection!,
      config: renewal ? plan.freshConfig() : plan.config,
      polite: this.polite,
      initialOfferer,
      channels: renewal?.channels ?? plan.channels,
      stream: this.media?.stream ?? null,
      iceDisconnectGraceMs: host.options.iceDisconnectGraceMs,
      maxIceRestarts: host.options.maxIceRestarts,
      iceRestartTimeoutMs: host.options.iceRestartTimeoutMs ?? 10_000,
      generation: renewal?.generation ?? 0,
      callChannels: this.callChannels,
      canRestartIce: host.platform.canRestartIce !== false,
      peerCanRestartIce: renewal?.peerCanRestartIce,
      restartsSoFar: renewal?.restarts ?? 0,
      liveness: host.platform.reportsIceDisconnect === false ? NODE_LIVENESS : null,
    });
    this.session = session;
    // A renewed-away peer connection is closed quietly; anything it still says is ignored.
    const current = <T>(fn: (value: T) => void) => (value: T): void => {
      if (this.session === session) fn(value);
    };
    session.on('event', current((e) => this.deliver(e)));
    session.on('signal', current((s) => this.sendPeerSignal(session, s)));
    session.on('control', current((m) => this.onControl(m)));
    session.on('controlclose', current(() => {
      // The peer's connection closed without a hang-up (tab closed, crash): give a
      // realtime hang-up sent just before a moment to arrive, then end, unless the path is
      // being restarted or renewed (the restart policy decides then).
      setTimeout(() => {
        if (this.state !== 'ended' && this.session === session && this.state !== 'reconnecting') void this.end('peer_gone', 'peer');
      }, 250);
    }));
    session.on('localclose', current(() => void this.end('hangup', 'self', { notify: { kind: 'hangup', reason: 'hangup' } })));
    session.on('health', current((health) => {
      if (this.state !== 'ended') this.state = health === 'connected' ? 'connected' : 'reconnecting';
      if (health === 'connected') this.closeRetiring();
    }));
    session.on('renew', current(({ restarts }) => this.renewal.request(this.polite === true, restarts)));
    session.on('failed', current((error) => void this.end('ice_failed', 'self', { notify: { kind: 'hangup', reason: 'ice_failed' }, error })));
    session.on('warning', (w) => {
      if (this.warnings.length < 50) this.warnings.push(`${w.message}: ${String(w.error)}`);
    });
  }

  private sendPeerSignal(session: PeerSession, signal: PeerSignal): void {
    if (!this.ctx.realtimeOpen() && session.controlOpen) {
      session.sendControl({ t: 'signal', signal });
      return;
    }
    this.ctx.host.sendSignal(this.peer.cid, this.id, signal).catch((error: unknown) => {
      if (this.state === 'ended') return;
      if (session.controlOpen) {
        session.sendControl({ t: 'signal', signal });
      } else if (asError(error).code === 'RECIPIENT_NOT_FOUND') {
        void this.end('peer_gone', 'peer');
      }
    });
  }

  private onControl(message: ControlMessage): void {
    if (message.t === 'hangup') {
      void this.end(hangupReason(message.reason), 'peer');
    } else if (message.t === 'cid') {
      this.peer.cid = message.cid;
    }
  }

  private deliver(event: RTCEvent): void {
    const cb = this.cb;
    if (!cb) return;
    try {
      cb(event);
    } catch (error) {
      console.error('Switchboard: the RTC callback threw', error);
    }
  }

  private result(): RTCResolved {
    const call = this;
    this.resolved ??= {
      // A getter: a renewal replaces the peer connection within the call.
      get target(): RTCPeerConnection {
        return call.session!.pc;
      },
      channels: this.callChannels.record,
      hangup: () => this.hangup(),
      media: this.media?.stream ?? null,
      call: this.id,
    };
    return this.resolved;
  }
}
