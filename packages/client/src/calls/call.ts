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
import type { ControlMessage, PeerSession } from '../rtc/index.js';
import type { CallHost, DeclineReason, RTCCallback, RTCConnector, RTCEvent, RTCReceiverParams, RTCResolved, RtcEndReason } from '../types.js';
import { openMedia, releaseMedia, type LocalMedia } from './media.js';
import { ABNORMAL, asError, closedEvent, endError, hangupReason, tooManyCalls } from './reasons.js';
import { checkCallback, checkParamsObject, planCall, type CallPlan } from './validate.js';
import { CallConnection } from './call-connection.js';
import { connectorFor } from './connector.js';
import { settledWithin } from './settled-within.js';
import { invokeCallback } from '../realtime/callback.js';
import { closedBeforePickup } from '../rtc/events.js';

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
  /**
   * The server said the peer's connection is gone, yet the peer answered a ping (a page being
   * unloaded can still answer for a moment): believed until the path itself fails, or until the
   * peer shows it is back on the server with a new cid.
   */
  private peerReportedGone = false;
  private checkingPeer = false;
  private readonly connection: CallConnection;

  constructor(
    private readonly ctx: CallContext,
    public id: string,
    public direction: CallDirection,
    readonly peer: { cid: string; user_id: string | null; name: string | null },
    public selfCid: string,
    readonly selfUser: string,
  ) {
    this.connection = this.connect();
    if (direction === 'outgoing') {
      this.connector = connectorFor(this, new Promise<RTCResolved>((resolve, reject) => (this.settle = { resolve, reject })));
    } else {
      this.connector = null;
    }
  }

  get live(): boolean {
    return this.state !== 'ended';
  }

  /** The call's current peer connection (a renewal replaces it). */
  get session(): PeerSession | null {
    return this.connection.session;
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
      else void this.end('error', 'self', { error: err.code === 'TOO_MANY_CALLS' ? tooManyCalls(err) : err });
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
  hangup(reason?: DeclineReason | { reason?: DeclineReason } | null): void {
    if (this.state === 'ended') return;
    if (this.state === 'ringing' && this.direction === 'incoming') {
      const asked = typeof reason === 'object' && reason !== null ? reason.reason : reason;
      const why = asked === 'busy' ? 'busy' : 'rejected';
      void this.end(why, 'self', { notify: { kind: 'reject', reason: why } });
    } else if (this.state === 'ringing') {
      void this.end('cancelled', 'self', { notify: { kind: 'hangup', reason: 'cancelled' } });
    } else {
      void this.end('hangup', 'self', { notify: { kind: 'hangup', reason: 'hangup' } });
    }
  }

  /**
   * The page is being unloaded: its peer connections die with it, often without a close the
   * peer notices, so the peer hears it now, over the control channel and the realtime connection.
   */
  leavePage(): void {
    if (this.state === 'ended') return;
    const cancelling = this.state === 'ringing' && this.direction === 'outgoing';
    void this.end(cancelling ? 'cancelled' : 'hangup', 'self', { notify: { kind: 'hangup', reason: cancelling ? 'cancelled' : 'peer_gone' } });
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
      this.peerReportedGone = false;
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
      case 'candidate':
        this.connection.handleSignal(signal);
        return;
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
    // Skapi apps watch the RTC callback for `closed` to learn that a call was rejected or
    // never answered: a call that ends before it has a peer connection says so too.
    if (!this.session) this.deliver(closedBeforePickup());
    this.closing = (async () => {
      await this.connection.close(viaControl ? 300 : 0);
      await settledWithin(Promise.all(sends), 1000);
    })();
    const hungup = by === 'self' ? this.selfUser : this.peer.user_id;
    this.ctx.host.emitRealtime(closedEvent(this.id, this.peer, hungup, reason, opts.error || ABNORMAL.has(reason) ? error : null));
    return this.closing;
  }

  /** Callee before accepting, or an existing call: what connectRTC for the same cid returns. */
  existingConnector(): RTCConnector {
    if (this.connector) return this.connector;
    return connectorFor(this, this.resolved ? Promise.resolve(this.resolved) : Promise.reject(new SwitchboardError('RTC_CANCELLED', 'The call is not connected.')));
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
      if (this.checkingPeer) return;
      this.checkingPeer = true;
      const answered = await this.session.ping(PEER_PING_MS);
      this.checkingPeer = false;
      if (answered) {
        this.peerReportedGone = true;
        return;
      }
    }
    void this.end(hangupReason(reason), 'peer');
  }

  private sendAccept(): void {
    this.ctx.host.sendSignal(this.peer.cid, this.id, { kind: 'accept' }).catch((error: unknown) => {
      if (this.state === 'ended' || this.session?.controlOpen) return;
      const err = asError(error);
      if (err.code === 'TOO_MANY_CALLS') {
        // The server refused the accept (one side has its most active calls): tell the caller,
        // still ringing, that this side cannot take the call, so it gets RTC_BUSY at once.
        void this.end('error', 'self', { notify: { kind: 'reject', reason: 'busy' }, error: tooManyCalls(err) });
        return;
      }
      void this.end(err.code === 'RECIPIENT_NOT_FOUND' ? 'peer_gone' : 'error', err.code === 'RECIPIENT_NOT_FOUND' ? 'peer' : 'self');
    });
  }

  /** What the call makes of its peer connection's events. */
  private connect(): CallConnection {
    return new CallConnection({
      host: this.ctx.host,
      realtimeOpen: () => this.ctx.realtimeOpen(),
      address: () => ({ cid: this.peer.cid, call: this.id }),
      ended: () => this.state === 'ended',
      deliver: (event) => this.deliver(event),
      control: (message) => this.onControl(message),
      // The peer's connection closed without a hang-up (tab closed, crash); while the path is
      // being restarted or renewed, the restart policy decides instead.
      controlClosed: () => {
        if (this.state !== 'ended' && (this.state !== 'reconnecting' || this.peerReportedGone)) void this.end('peer_gone', 'peer');
      },
      localClose: () => void this.end('hangup', 'self', { notify: { kind: 'hangup', reason: 'hangup' } }),
      health: (health) => {
        if (this.state === 'ended') return;
        // The server has no connection of the peer's and the path to it failed: nothing can restart it.
        if (health !== 'connected' && this.peerReportedGone) void this.end('peer_gone', 'peer');
        else this.state = health === 'connected' ? 'connected' : 'reconnecting';
      },
      failed: (error) => void this.end('ice_failed', 'self', { notify: { kind: 'hangup', reason: 'ice_failed' }, error }),
      peerGone: () => void this.end('peer_gone', 'peer'),
      peerUnreachable: () => void this.onPeerHangup('peer_gone'),
      warn: (text) => {
        if (this.warnings.length < 50) this.warnings.push(text);
      },
    });
  }

  private startSession(initialOfferer: boolean): void {
    // Polite rule: the side with the lexicographically smaller cid (when the first peer
    // connection is made) is polite. Both sides compute it from the same two cids.
    this.connection.start(this.plan!, this.media?.stream ?? null, { polite: this.selfCid < this.peer.cid, initialOfferer });
  }

  private onControl(message: ControlMessage): void {
    if (message.t === 'hangup') {
      void this.end(hangupReason(message.reason), 'peer');
    } else if (message.t === 'cid') {
      this.peer.cid = message.cid;
      this.peerReportedGone = false;
    }
  }

  private deliver(event: RTCEvent): void {
    if (this.cb) invokeCallback(this.cb, event, 'RTC');
  }

  private result(): RTCResolved {
    const call = this;
    this.resolved ??= {
      // A getter: a renewal replaces the peer connection within the call.
      get target(): RTCPeerConnection {
        return call.session!.pc;
      },
      channels: this.connection.channels.record,
      hangup: () => this.hangup(),
      media: this.media?.stream ?? null,
      call: this.id,
    };
    return this.resolved;
  }
}
