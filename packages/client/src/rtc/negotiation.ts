/**
 * The W3C webrtc-pc "Perfect Negotiation Example" on one peer connection: each side
 * renegotiates on `negotiationneeded` (tracks or channels added or removed, ICE
 * restart); an offer collision is settled by the roles: the impolite side ignores
 * the incoming offer, the polite side rolls its own back by applying the remote one
 * (implicit rollback, with an explicit rollback for stacks that lack it).
 *
 * Two deliberate additions:
 * - inbound signals are applied one at a time, in arrival order, and candidates that
 *   arrive before any remote description are buffered and applied right after it, so
 *   none is lost while `setRemoteDescription` is pending;
 * - the side that is not the `initialOfferer` (the callee) lets the caller make the
 *   first offer: it skips `negotiationneeded` until the first remote description, so
 *   a call does not start with an offer collision. Its tracks, added before that
 *   offer is applied, ride in the answer; anything else fires `negotiationneeded`
 *   again once signaling is stable.
 */
import type { PeerSignal } from './control.js';

export interface NegotiationHooks {
  live(): boolean;
  /** Our description, to be sent to the other side. */
  description(description: { type: RTCSdpType; sdp: string }): void;
  /** A remote candidate line is about to be applied (for the ICE diagnosis). */
  remoteCandidate(line: string | undefined): void;
  warn(message: string, error: unknown): void;
}

export class PerfectNegotiation {
  private makingOffer = false;
  private ignoreOffer = false;
  private isSettingRemoteAnswerPending = false;
  private remoteDescriptionSeen = false;
  private localOfferSent = false;
  private sawNegotiationNeeded = false;
  private pendingCandidates: (RTCIceCandidateInit | null)[] = [];
  private inbound: Promise<void> = Promise.resolve();

  constructor(
    private readonly pc: RTCPeerConnection,
    private readonly roles: { polite: boolean; initialOfferer: boolean },
    private readonly hooks: NegotiationHooks,
  ) {}

  /** The peer connection fired `negotiationneeded`. */
  negotiationNeeded(): void {
    this.sawNegotiationNeeded = true;
    void this.offer();
  }

  /**
   * Browsers fire `negotiationneeded` for the first offer (a task queued before this one).
   * Stacks that never fire it (node-datachannel) still get their first offer sent.
   */
  kickOffer(): void {
    if (!this.hooks.live() || this.sawNegotiationNeeded || this.makingOffer || this.localOfferSent || this.remoteDescriptionSeen) return;
    if (this.pc.signalingState === 'have-local-offer' && this.pc.localDescription?.sdp) this.sendDescription();
    else if (this.pc.signalingState === 'stable') void this.offer();
  }

  /** A description or candidate from the other side, applied after those before it. */
  handleSignal(signal: PeerSignal): void {
    this.inbound = this.inbound
      .then(() => this.applySignal(signal))
      .catch((error: unknown) => {
        this.hooks.warn(`could not apply a remote ${signal.kind}`, error);
      });
  }

  /** An explicit ICE-restart offer, for stacks without `restartIce()`. */
  async restartOffer(): Promise<void> {
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription(await this.pc.createOffer({ iceRestart: true }));
      this.sendDescription();
    } catch (error) {
      this.hooks.warn('ICE restart offer failed', error);
    } finally {
      this.makingOffer = false;
    }
  }

  private async offer(): Promise<void> {
    if (!this.roles.initialOfferer && !this.remoteDescriptionSeen) return; // the caller offers first
    if (this.makingOffer) return; // an offer is being made already (see kickOffer)
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      // Stacks whose setLocalDescription() without a description does nothing (node-datachannel).
      if (!this.pc.localDescription?.sdp) await this.pc.setLocalDescription({ type: 'offer' });
      this.sendDescription();
    } catch (error) {
      this.hooks.warn('could not make an offer', error);
    } finally {
      this.makingOffer = false;
    }
  }

  private async applySignal(signal: PeerSignal): Promise<void> {
    if (!this.hooks.live()) return;
    const pc = this.pc;
    if (signal.kind === 'candidate') {
      if (!pc.remoteDescription) {
        this.pendingCandidates.push(signal.candidate);
        return;
      }
      await this.addCandidate(signal.candidate);
      return;
    }
    const description = signal.description as RTCSessionDescriptionInit;
    // `!this.localOfferSent`: a local offer the other side never saw is no collision. Browsers never
    // get here that way (makingOffer covers the moment before we send); stacks that make offers by
    // themselves (node-datachannel's auto-negotiation) do, and roll back like a polite peer would.
    const readyForOffer = !this.makingOffer && (pc.signalingState === 'stable' || this.isSettingRemoteAnswerPending || !this.localOfferSent);
    const offerCollision = description.type === 'offer' && !readyForOffer;
    this.ignoreOffer = !this.roles.polite && offerCollision;
    if (this.ignoreOffer) return;
    this.isSettingRemoteAnswerPending = description.type === 'answer';
    try {
      await this.setRemote(description);
    } finally {
      this.isSettingRemoteAnswerPending = false;
    }
    this.remoteDescriptionSeen = true;
    const buffered = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const candidate of buffered) await this.addCandidate(candidate);
    if (description.type === 'offer' && this.hooks.live()) {
      await pc.setLocalDescription();
      this.sendDescription();
    }
  }

  private async setRemote(description: RTCSessionDescriptionInit): Promise<void> {
    try {
      await this.pc.setRemoteDescription(description);
    } catch (error) {
      // Stacks without implicit rollback: roll back explicitly, then apply the offer.
      if (description.type !== 'offer' || this.pc.signalingState !== 'have-local-offer') throw error;
      await this.pc.setLocalDescription({ type: 'rollback' });
      await this.pc.setRemoteDescription(description);
    }
  }

  private async addCandidate(candidate: RTCIceCandidateInit | null): Promise<void> {
    this.hooks.remoteCandidate(candidate?.candidate);
    try {
      if (candidate === null) await this.pc.addIceCandidate();
      else await this.pc.addIceCandidate(candidate);
    } catch (error) {
      // Candidates of an offer we ignored (glare) fail by design; others are only logged, as in the W3C example.
      if (!this.ignoreOffer) this.hooks.warn('could not add a remote candidate', error);
    }
  }

  private sendDescription(): void {
    const local = this.pc.localDescription;
    if (!local?.sdp || !this.hooks.live()) return;
    this.localOfferSent = local.type === 'offer';
    this.hooks.description({ type: local.type, sdp: local.sdp });
  }
}
