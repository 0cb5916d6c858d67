/**
 * A W3C-shaped RTCPeerConnection for Node: node-datachannel's polyfill, built on a native
 * libdatachannel PeerConnection that this wrapper configures, with the quirks the SDK's
 * perfect negotiation (src/rtc) would trip over fixed here instead of in src/rtc:
 *
 * - TURN: the native `{ hostname, port, username, password, relayType }` form (REST usernames
 *   hold a `:` that the polyfill's `turn:user:pass@host` URLs break on); `bindAddress`,
 *   `portRange`, `iceTransportPolicy` passed through.
 * - Negotiation is explicit (`disableAutoNegotiation`): `setLocalDescription()` without an
 *   argument makes the offer or the answer the signaling state calls for (the polyfill
 *   ignored it), `{ type: 'rollback' }` rolls back, and `negotiationneeded` fires when a data
 *   channel needs an SCTP association that no local description carries yet (the polyfill
 *   never fired it) — again when signaling returns to stable if it is still needed.
 * - Descriptions: `localDescription`/`remoteDescription` are `null` before they exist (the
 *   polyfill returned an empty object, so early candidates were never buffered).
 * - Candidates: the `a=` prefix is stripped, `sdpMLineIndex` filled in, gathering completion
 *   is announced with a `null` candidate after the last one; `iceGatheringState` says
 *   `gathering`. Local candidates wait for the remote description (see #flushCandidates), and
 *   candidates inside a remote SDP are applied after it (see splitCandidates); local SDPs carry
 *   none. Without that about one Node↔Node call in ten failed its DTLS handshake ("unknown
 *   CA"), and many paid a 1 s DTLS retransmission (a ClientHello that arrived before the
 *   peer's DTLS transport existed); with it, setup is about 10–100 ms on loopback.
 * - `restartIce()`: libdatachannel cannot restart ICE (it rejects new ICE credentials), so it
 *   renegotiates with the same credentials; an incoming restart offer is refused with a clear
 *   error. The platform says so (`canRestartIce: false`), and calls replace the peer connection
 *   instead (a renewal, src/calls/renewal.ts), so the SDK never relies on this.
 * - Lifetime: every instance counts as live until closed; when the last one closes, the
 *   native thread pool is released (`cleanup()`), so a process exits once its calls ended and
 *   its realtime connection closed.
 */
import { PeerConnection, type RtcConfig } from 'node-datachannel';
import {
  RTCIceCandidate as PolyfillIceCandidate,
  RTCPeerConnection as PolyfillPeerConnection,
  RTCPeerConnectionIceEvent as PolyfillIceEvent,
} from 'node-datachannel/polyfill';
import { nativeIceServers } from './ice-servers.js';
import { iceCredentials, splitCandidates } from './sdp.js';
import { peerClosed, peerOpened, trackChannel } from './lifecycle.js';

/** Node-only settings of peer connections (`nodePlatform(options)` / `new Switchboard({ node })`). */
export interface NodeRtcOptions {
  /** Local address for ICE sockets, e.g. '127.0.0.1' (default: every interface). */
  bindAddress?: string;
  /** UDP port range for ICE sockets. */
  portRange?: { min: number; max: number };
  /** ICE over TCP (host TCP candidates). Default false. */
  enableIceTcp?: boolean;
  /** Largest data channel message this side accepts (libdatachannel default 256 KiB). */
  maxMessageSize?: number;
  /** Release node-datachannel's threads when the last peer connection closes (default true). */
  autoCleanup?: boolean;
}

type NativeState = ReturnType<PeerConnection['signalingState']>;
const Base = PolyfillPeerConnection as unknown as new (config: RTCConfiguration & { peerConnection: PeerConnection }) => RTCPeerConnection;
let counter = 0;

function domError(name: string, message: string): Error {
  return new DOMException(message, name);
}

function nativeConfig(config: RTCConfiguration, options: NodeRtcOptions): RtcConfig {
  const native: RtcConfig = { iceServers: nativeIceServers(config.iceServers), disableAutoNegotiation: true };
  if (config.iceTransportPolicy === 'relay') native.iceTransportPolicy = 'relay';
  if (options.bindAddress) native.bindAddress = options.bindAddress;
  if (options.portRange) {
    native.portRangeBegin = options.portRange.min;
    native.portRangeEnd = options.portRange.max;
  }
  if (options.enableIceTcp !== undefined) native.enableIceTcp = options.enableIceTcp;
  if (options.maxMessageSize !== undefined) native.maxMessageSize = options.maxMessageSize;
  return native;
}

/** The RTCPeerConnection class the Node platform hands to the SDK, bound to `options`. */
export function nodePeerConnectionClass(options: NodeRtcOptions = {}): new (config?: RTCConfiguration) => RTCPeerConnection {
  return class NodeRTCPeerConnection extends Base {
    readonly #native: PeerConnection;
    readonly #config: RTCConfiguration;
    #applied: RTCSdpType | null = null;
    #closed = false;
    #needsNegotiation = false;
    #negotiationQueued = false;
    #remoteSeen = false;
    /** Local candidates not yet dispatched: held until a remote description is applied (see #flushCandidates). */
    #heldCandidates: Event[] = [];
    #candidatesSent = 0;
    #gatheringDone = false;
    #endSent = false;

    constructor(config: RTCConfiguration = {}) {
      const copy: RTCConfiguration = { ...config, iceServers: (config.iceServers ?? []).map((server) => ({ ...server })) };
      if (copy.iceTransportPolicy !== undefined && copy.iceTransportPolicy !== 'all' && copy.iceTransportPolicy !== 'relay') {
        throw new TypeError('iceTransportPolicy must be "all" or "relay".');
      }
      // Validates the ICE servers (throws before anything native exists); the polyfill gets none of them.
      const native = new PeerConnection(`switchboard-${++counter}`, nativeConfig(copy, options));
      super({ ...copy, iceServers: [], peerConnection: native });
      this.#config = copy;
      this.#native = native;
      peerOpened(options.autoCleanup !== false);
    }

    override getConfiguration(): RTCConfiguration {
      return this.#config;
    }

    // ---------------------------------------------------------------- state

    override get localDescription(): RTCSessionDescription | null {
      const local = this.#native.localDescription();
      if (!local) return null;
      // Candidates go out one by one (held until the remote description is applied), never inside the SDP.
      const sdp = splitCandidates(local.sdp).sdp;
      return { type: local.type as RTCSdpType, sdp, toJSON: () => ({ type: local.type as RTCSdpType, sdp }) };
    }

    override get remoteDescription(): RTCSessionDescription | null {
      const remote = this.#native.remoteDescription();
      if (!remote) return null;
      return { type: remote.type as RTCSdpType, sdp: remote.sdp, toJSON: () => ({ type: remote.type as RTCSdpType, sdp: remote.sdp }) };
    }

    override get currentLocalDescription(): RTCSessionDescription | null {
      return this.signalingState === 'stable' ? this.localDescription : null;
    }

    override get pendingLocalDescription(): RTCSessionDescription | null {
      return this.signalingState === 'have-local-offer' ? this.localDescription : null;
    }

    override get currentRemoteDescription(): RTCSessionDescription | null {
      return this.signalingState === 'stable' ? this.remoteDescription : null;
    }

    override get pendingRemoteDescription(): RTCSessionDescription | null {
      return this.signalingState === 'have-remote-offer' ? this.remoteDescription : null;
    }

    override get signalingState(): RTCSignalingState {
      return this.#closed ? 'closed' : (this.#native.signalingState() as NativeState);
    }

    override get connectionState(): RTCPeerConnectionState {
      return this.#closed ? 'closed' : this.#native.state();
    }

    override get iceGatheringState(): RTCIceGatheringState {
      const state = this.#native.gatheringState() as string;
      return (state === 'in-progress' ? 'gathering' : state) as RTCIceGatheringState;
    }

    // ---------------------------------------------------------------- negotiation

    override async setLocalDescription(description?: RTCLocalSessionDescriptionInit): Promise<void> {
      this.#assertOpen('setLocalDescription');
      const state = this.signalingState;
      const type = description?.type ?? (state === 'have-remote-offer' || state === 'have-local-pranswer' ? 'answer' : 'offer');
      if (type === 'rollback') {
        if (state === 'have-local-offer') this.#native.setLocalDescription('rollback');
        return;
      }
      if (description?.sdp && this.#applied === type) {
        this.#applied = null; // already applied by createOffer()/createAnswer()
        return;
      }
      this.#applied = null;
      try {
        this.#native.setLocalDescription(type === 'pranswer' ? 'answer' : type);
      } catch (error) {
        throw domError('InvalidStateError', `setLocalDescription(${type}) failed in ${state}: ${(error as Error).message}`);
      }
      if (this.#native.localDescription()?.sdp.includes('m=application')) this.#needsNegotiation = false;
    }

    override async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
      this.#assertOpen('setRemoteDescription');
      if (description.type === 'rollback') return;
      if (typeof description.sdp !== 'string' || description.sdp.length === 0) throw domError('InvalidAccessError', 'The remote description has no SDP.');
      const previous = iceCredentials(this.#native.remoteDescription()?.sdp);
      const next = iceCredentials(description.sdp);
      if (description.type === 'offer' && previous && next && previous !== next) {
        throw domError('OperationError', 'ICE restart is not supported by node-datachannel (libdatachannel): the remote offer changes the ICE credentials.');
      }
      // Candidates inside the SDP are applied after it (see splitCandidates).
      const { sdp, candidates } = splitCandidates(description.sdp);
      try {
        this.#native.setRemoteDescription(sdp, description.type);
      } catch (error) {
        throw domError('OperationError', `setRemoteDescription(${description.type}) failed: ${(error as Error).message}`);
      }
      this.#remoteSeen = true;
      for (const candidate of candidates) {
        try {
          this.#native.addRemoteCandidate(candidate.candidate, candidate.mid);
        } catch {
          // a candidate libdatachannel cannot use (e.g. an unresolvable mDNS name) is skipped, as a browser would
        }
      }
      if (this.#heldCandidates.length > 0 || this.#gatheringDone) setTimeout(() => this.#flushCandidates(), 0);
    }

    // The DOM typings overload these with legacy callbacks (Promise<void>); the returned type is only for them.
    override createOffer(): Promise<never> {
      return this.#create('offer') as Promise<never>;
    }

    override createAnswer(): Promise<never> {
      return this.#create('answer') as Promise<never>;
    }

    async #create(type: 'offer' | 'answer'): Promise<RTCSessionDescriptionInit> {
      if (type === 'answer' && this.signalingState !== 'have-remote-offer') throw domError('InvalidStateError', 'createAnswer needs a remote offer.');
      // libdatachannel cannot make a description without applying it: apply it now; the
      // setLocalDescription(description) that follows is then a no-op.
      await this.setLocalDescription({ type });
      this.#applied = type;
      const local = this.localDescription!;
      return { type: local.type, sdp: local.sdp };
    }

    /**
     * Message bytes received (not W3C; what the SDK's liveness check reads). libdatachannel counts
     * data channel payloads only, not SCTP acknowledgements: see bytesSent.
     */
    bytesReceived(): number {
      return this.#closed ? 0 : this.#native.bytesReceived();
    }

    /**
     * Message bytes handed to SCTP (not W3C). When the send queue is backed up, SCTP takes more
     * only as the peer acknowledges: the liveness check reads that as the peer's life.
     */
    bytesSent(): number {
      return this.#closed ? 0 : this.#native.bytesSent();
    }

    override restartIce(): void {
      if (this.#closed) return;
      this.#needsNegotiation = true;
      this.#queueNegotiation();
    }

    override async addIceCandidate(candidate?: RTCIceCandidateInit | null): Promise<void> {
      this.#assertOpen('addIceCandidate');
      if (!candidate || !candidate.candidate) return; // end of candidates: nothing to do for libdatachannel
      if (!this.#native.remoteDescription()) throw domError('InvalidStateError', 'addIceCandidate before the remote description.');
      const mid = candidate.sdpMid ?? (candidate.sdpMLineIndex === null || candidate.sdpMLineIndex === undefined ? '0' : String(candidate.sdpMLineIndex));
      try {
        this.#native.addRemoteCandidate(candidate.candidate, mid);
      } catch (error) {
        throw domError('OperationError', `addIceCandidate failed: ${(error as Error).message}`);
      }
    }

    override createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel {
      this.#assertOpen('createDataChannel');
      const channel = super.createDataChannel(label, init);
      trackChannel(channel);
      if (!this.#native.localDescription()?.sdp.includes('m=application')) {
        this.#needsNegotiation = true;
        this.#queueNegotiation();
      }
      return channel;
    }

    override addTrack(): RTCRtpSender {
      throw domError('NotSupportedError', 'Media tracks are not supported in Node (node-datachannel): data channels work.');
    }

    override addTransceiver(): RTCRtpTransceiver {
      throw domError('NotSupportedError', 'Media tracks are not supported in Node (node-datachannel): data channels work.');
    }

    override close(): void {
      if (this.#closed) return;
      this.#closed = true;
      try {
        this.#native.close();
      } finally {
        peerClosed();
      }
    }

    // ---------------------------------------------------------------- events

    override dispatchEvent(event: Event): boolean {
      if (this.#closed) return false;
      if (event.type === 'datachannel') trackChannel((event as RTCDataChannelEvent).channel);
      if (event.type === 'icecandidate') {
        this.#heldCandidates.push(this.#fixCandidate(event as RTCPeerConnectionIceEvent));
        this.#flushCandidates();
        return true;
      }
      const result = super.dispatchEvent(event);
      if (event.type === 'icegatheringstatechange' && this.iceGatheringState === 'complete') {
        this.#gatheringDone = true;
        this.#flushCandidates();
      }
      if (event.type === 'signalingstatechange' && this.signalingState === 'stable' && this.#needsNegotiation) this.#queueNegotiation();
      return result;
    }

    /**
     * Dispatches held local candidates, then end-of-candidates (a `null` candidate) once every
     * candidate of the local description went out (native callbacks do not keep that order).
     *
     * Candidates wait for a remote description: libdatachannel hands a remote description to
     * ICE before it stores it for DTLS, so a peer that already checks against our candidates
     * can complete ICE and the DTLS handshake inside that window, and the certificate check
     * then fails ("unknown CA"). Without our candidates the peer cannot reach us until the
     * remote description is fully applied; the cost is one signaling trip on the offerer.
     */
    #flushCandidates(): void {
      if (this.#closed || !this.#remoteSeen) return;
      for (const event of this.#heldCandidates.splice(0)) {
        this.#candidatesSent += 1;
        super.dispatchEvent(event);
      }
      if (!this.#gatheringDone || this.#endSent) return;
      const gathered = (this.#native.localDescription()?.sdp.match(/^a=candidate:/gm) ?? []).length;
      if (this.#candidatesSent < gathered) return;
      this.#endSent = true;
      super.dispatchEvent(new PolyfillIceEvent(null as unknown as RTCIceCandidate));
    }

    #fixCandidate(event: RTCPeerConnectionIceEvent): Event {
      const candidate = event.candidate!;
      const mid = candidate.sdpMid ?? '0';
      const index = Number.isInteger(Number(mid)) ? Number(mid) : 0;
      return new PolyfillIceEvent(
        new PolyfillIceCandidate({ candidate: candidate.candidate.replace(/^a=/, ''), sdpMid: mid, sdpMLineIndex: index }) as unknown as RTCIceCandidate,
      );
    }

    /** W3C: `negotiationneeded` is queued, and only fires while signaling is stable. */
    #queueNegotiation(): void {
      if (this.#negotiationQueued) return;
      this.#negotiationQueued = true;
      setTimeout(() => {
        this.#negotiationQueued = false;
        if (this.#closed || !this.#needsNegotiation || this.signalingState !== 'stable') return;
        this.dispatchEvent(new Event('negotiationneeded'));
      }, 0);
    }

    #assertOpen(method: string): void {
      if (this.#closed) throw domError('InvalidStateError', `${method}: the RTCPeerConnection is closed.`);
    }
  };
}
