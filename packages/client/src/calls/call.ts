/**
 * One call, by call id: ringing → accepted → connected ↔ reconnecting → ended.
 *
 * The caller creates its peer connection when the callee's `accept` arrives and makes
 * the first offer; the callee creates its own when it accepts (so `rt.connectRTC`
 * resolves with a live `target`) and waits for that offer. Nothing is negotiated while
 * ringing, so an unanswered call costs no ICE gathering or TURN allocation, and signals
 * of other or older calls never reach this peer connection (each call has its own).
 *
 * This class holds the call's state and is what the manager and the app's handles talk
 * to. What the call does lives beside it, one file per phase, since each phase has its own
 * timers, inputs and failure rules and is read and changed on its own:
 * - ringing.ts: the invite, the ring timers, accept and reject, glare adoption;
 * - connected.ts: what the call makes of its peer connection's events (control messages,
 *   health, the checks before believing the server's "peer_gone");
 * - teardown.ts: ending, whoever ends it and however.
 * Signals from the peer are routed here, since any phase may receive them.
 */
import { SwitchboardError, type RtcSignal, type ServerMessageOf } from '@switchboard/protocol';
import type { PeerSession } from '../rtc/index.js';
import type { DeclineReason, RTCCallback, RTCConnector, RTCEvent, RTCReceiverParams, RTCResolved, RtcEndReason } from '../types.js';
import type { LocalMedia } from './media.js';
import type { CallPlan } from './validate.js';
import type { CallContext, CallData, CallDirection, CallState } from './call-data.js';
import { CallConnection } from './call-connection.js';
import { connectorFor } from './connector.js';
import { invokeCallback } from '../realtime/callback.js';
import * as ringing from './ringing.js';
import * as connected from './connected.js';
import * as teardown from './teardown.js';

export { CALLEE_RING_SLACK_MS } from './ringing.js';
export { PEER_PING_MS } from './connected.js';
export type { CallContext, CallDirection, CallState } from './call-data.js';
type RtcFrame = ServerMessageOf<'rtc'>;

export class Call implements CallData {
  state: CallState = 'ringing';
  media: LocalMedia | null = null;
  readonly warnings: string[] = [];
  /** Labels the caller announced in its invite (the callee does not open them twice). */
  remoteLabels: string[] = [];
  remoteMedia: { audio: boolean; video: boolean } | null = null;
  readonly connector: RTCConnector | null;
  /** The app's RTC callback, its plan for the call: set once it placed or accepted the call. */
  cb: RTCCallback | null = null;
  plan: CallPlan | null = null;
  // Ringing (ringing.ts).
  /** What the caller's `connection` resolves with and what the callee's connectRTC returns. */
  resolved: RTCResolved | null = null;
  settle: { resolve: (r: RTCResolved) => void; reject: (e: SwitchboardError) => void } | null = null;
  ringTimer: ReturnType<typeof setTimeout> | undefined;
  /** The invite went out. */
  invited = false;
  /** Glare settled while our media was still opening: accept the peer's call once it is. */
  adoptWhenReady = false;
  // Connected (connected.ts).
  /**
   * The server said the peer's connection is gone, yet the peer answered a ping (a page being
   * unloaded can still answer for a moment): believed until the path itself fails, or until the
   * peer shows it is back on the server with a new cid.
   */
  peerReportedGone = false;
  checkingPeer = false;
  readonly connection: CallConnection;
  // Teardown (teardown.ts).
  closing: Promise<void> | null = null;

  constructor(
    readonly ctx: CallContext,
    public id: string,
    public direction: CallDirection,
    readonly peer: { cid: string; user_id: string | null; name: string | null },
    public selfCid: string,
    readonly selfUser: string,
  ) {
    this.connection = new CallConnection(connected.connectionOwner(this));
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

  /** Caller: invite now (the callee rings while the media opens); resolves once the media is open. */
  place(plan: CallPlan, cb: RTCCallback): Promise<void> {
    return ringing.place(this, plan, cb);
  }

  /** connectRTC could not open the media: the call never started (no invite, no rtc:closed). */
  abandon(): void {
    ringing.abandon(this);
  }

  /** Glare: our outgoing call loses to the peer's invite; we become the callee of theirs (see manager.ts). */
  adoptInvite(frame: RtcFrame): void {
    ringing.adoptInvite(this, frame);
  }

  startIncoming(frame: RtcFrame): void {
    ringing.startIncoming(this, frame);
  }

  /** Callee: `rt.connectRTC(params, cb)`. Resolves null when the call no longer rings. */
  accept(params: RTCReceiverParams | undefined, cb: RTCCallback): Promise<RTCResolved | null> {
    return ringing.accept(this, params, cb);
  }

  /** The app hangs up: cancel (caller, ringing), decline (callee, ringing) or hang up. */
  hangup(reason?: DeclineReason | { reason?: DeclineReason } | null): void {
    teardown.hangup(this, reason);
  }

  /** The page is being unloaded: the peer hears it now, on both paths. */
  leavePage(): void {
    teardown.leavePage(this);
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
      connected.peerMoved(this, frame.sender_cid);
    }
    this.learnPeer(frame);
    const signal = frame.signal;
    switch (signal.kind) {
      case 'accept':
        if (this.direction === 'outgoing' && this.state === 'ringing') ringing.peerAccepted(this);
        return;
      case 'reject':
        if (this.direction === 'outgoing' && this.state === 'ringing') void this.end(signal.reason, 'peer');
        return;
      case 'hangup':
        void connected.peerHungUp(this, signal.reason ?? 'hangup');
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
    connected.realtimeClosed(this);
  }

  onRealtimeOpen(cid: string): void {
    connected.realtimeOpen(this, cid);
  }

  end(reason: RtcEndReason, by: 'self' | 'peer', opts?: { notify?: RtcSignal; error?: SwitchboardError }): Promise<void> {
    return teardown.end(this, reason, by, opts);
  }

  /** Callee before accepting, or an existing call: what connectRTC for the same cid returns. */
  existingConnector(): RTCConnector {
    if (this.connector) return this.connector;
    return connectorFor(
      this,
      this.resolved ? Promise.resolve(this.resolved) : Promise.reject(new SwitchboardError('RTC_CANCELLED', 'The call is not connected.')),
    );
  }

  learnPeer(frame: RtcFrame): void {
    this.peer.user_id ??= frame.sender;
    this.peer.name ??= frame.sender_name;
  }

  /** To the app's RTC callback, once there is one. */
  deliver(event: RTCEvent): void {
    if (this.cb) invokeCallback(this.cb, event, 'RTC');
  }
}
