/**
 * DEV ONLY (`vite build --mode mock`): a stand-in for @switchboard/client with the same
 * public surface, signaling over BroadcastChannel between tabs of one browser and real
 * RTCPeerConnections (perfect negotiation). Lets the demo UI be worked on without a
 * server. Never part of the shipped build.
 */
import type {
  RealtimeCallback,
  RealtimeEvent,
  RTCCallback,
  RTCConnector,
  RTCConnectorParams,
  RTCReceiverParams,
  RTCResolved,
  RtcEndReason,
  SwitchboardOptions,
} from '../../../packages/client/src/types.js';

export type * from '../../../packages/client/src/types.js';

class MockError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SwitchboardError';
  }
}

type Signal =
  | { kind: 'invite'; media: { audio: boolean; video: boolean } }
  | { kind: 'accept' }
  | { kind: 'reject'; reason: 'rejected' | 'busy' }
  | { kind: 'hangup'; reason: RtcEndReason }
  | { kind: 'description'; description: RTCSessionDescriptionInit }
  | { kind: 'candidate'; candidate: RTCIceCandidateInit | null };

type Frame =
  | { kind: 'join' | 'leave'; group: string; user_id: string; cid: string; code: 'USER_JOINED' | 'USER_LEFT' | 'USER_DISCONNECTED' }
  | { kind: 'who'; group: string; req: string; cid: string }
  | { kind: 'here'; req: string; to: string; user_id: string; cid: string }
  | { kind: 'msg'; group: string | null; to: string | null; message: unknown; user_id: string; cid: string }
  | { kind: 'rtc'; to: string; call: string; signal: Signal; user_id: string; cid: string; name: string | null };

const rand = (): string => Math.random().toString(36).slice(2, 10);

class MockCall {
  pc: RTCPeerConnection;
  channels: Record<string, RTCDataChannel> = {};
  accepted = false;
  closed = false;
  private makingOffer = false;
  private ignoreOffer = false;
  resolveConnection: ((rtc: RTCResolved) => void) | null = null;
  rejectConnection: ((error: Error) => void) | null = null;
  ringTimer: number | undefined;

  constructor(
    private readonly sb: Switchboard,
    readonly call: string,
    readonly peerCid: string,
    readonly peerUser: string,
    private readonly cb: RTCCallback,
    readonly media: MediaStream | null,
    private readonly polite: boolean,
  ) {
    this.pc = new RTCPeerConnection();
    const pc = this.pc;
    for (const track of media?.getTracks() ?? []) pc.addTrack(track, media!);
    pc.ontrack = (e) => cb({ type: 'track', target: pc, track: e.track, streams: [...e.streams], timeStamp: e.timeStamp });
    pc.onicecandidate = (e) => this.send({ kind: 'candidate', candidate: e.candidate ? e.candidate.toJSON() : null });
    pc.onconnectionstatechange = () => cb({ type: 'connectionstatechange', target: pc, state: pc.connectionState, iceState: pc.iceConnectionState });
    pc.oniceconnectionstatechange = () => cb({ type: 'iceconnectionstatechange', target: pc, state: pc.iceConnectionState });
    pc.onnegotiationneeded = () => {
      if (this.accepted) void this.negotiate();
    };
    pc.ondatachannel = (e) => this.wire(e.channel);
  }

  resolved(): RTCResolved {
    return { target: this.pc, channels: this.channels, hangup: () => this.hangup('hangup'), media: this.media, call: this.call };
  }

  wire(channel: RTCDataChannel): void {
    this.channels[channel.label] = channel;
    const cb = this.cb;
    channel.onopen = () => cb({ type: 'open', target: channel, label: channel.label, readyState: channel.readyState });
    channel.onmessage = (e) => cb({ type: 'message', target: channel, label: channel.label, data: e.data });
    channel.onclose = () => cb({ type: 'close', target: channel, label: channel.label });
  }

  send(signal: Signal): void {
    this.sb.sendRtc(this.peerCid, this.call, signal);
  }

  async negotiate(): Promise<void> {
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      this.send({ kind: 'description', description: this.pc.localDescription!.toJSON() });
    } catch (error) {
      console.warn('mock negotiate', error);
    } finally {
      this.makingOffer = false;
    }
  }

  async onSignal(signal: Signal): Promise<void> {
    if (this.closed) return;
    if (signal.kind === 'description') {
      const description = signal.description;
      const collision = description.type === 'offer' && (this.makingOffer || this.pc.signalingState !== 'stable');
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      await this.pc.setRemoteDescription(description);
      if (description.type === 'offer') {
        await this.pc.setLocalDescription();
        this.send({ kind: 'description', description: this.pc.localDescription!.toJSON() });
        // The callee waits for the caller's first offer before it negotiates itself (no glare).
        if (!this.accepted) {
          this.accepted = true;
          if (this.pc.signalingState === 'stable') void this.negotiateIfNeeded();
        }
      }
    } else if (signal.kind === 'candidate') {
      try {
        await this.pc.addIceCandidate(signal.candidate ?? undefined);
      } catch (error) {
        if (!this.ignoreOffer) console.warn('mock candidate', error);
      }
    }
  }

  private async negotiateIfNeeded(): Promise<void> {
    // Tracks added before the first offer that found no m-line to ride on.
    if (this.pc.getTransceivers().some((t) => !t.mid && t.sender.track)) await this.negotiate();
  }

  hangup(reason: RtcEndReason): void {
    if (this.closed) return;
    this.send({ kind: 'hangup', reason });
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    window.clearTimeout(this.ringTimer);
    for (const channel of Object.values(this.channels)) channel.close();
    this.pc.close();
    this.cb({ type: 'connectionstatechange', target: this.pc, state: 'closed' });
    this.sb.forget(this.call);
  }
}

export class Switchboard {
  user: { user_id: string; name: string | null } | null = null;
  readonly cid: string | null = `cid:${rand()}`;
  private cb: RealtimeCallback | null = null;
  private bc: BroadcastChannel | null = null;
  private group: string | null = null;
  private readonly calls = new Map<string, MockCall>();
  private readonly ringing = new Map<string, { from: string; user: string }>();
  private readonly waiting = new Map<string, (row: { user_id: string; cid: string }) => void>();

  constructor(private readonly options: SwitchboardOptions) {}

  private emit(event: RealtimeEvent): void {
    this.cb?.(event);
  }

  private post(frame: Frame): void {
    this.bc?.postMessage(frame);
  }

  async connectRealtime(cb: RealtimeCallback): Promise<{ cid: string; user: { user_id: string; name: string | null } }> {
    this.cb = cb;
    if (!this.bc) {
      if (this.options.token === 'bad') throw new MockError('UNAUTHORIZED', 'Invalid token.');
      this.user = { user_id: `guest-${rand()}`, name: this.options.name ?? null };
      this.bc = new BroadcastChannel('switchboard-mock');
      this.bc.onmessage = (e: MessageEvent<Frame>) => this.onFrame(e.data);
      await new Promise((r) => setTimeout(r, 80));
      this.emit({ type: 'success', message: 'Connected to WebSocket server.' });
    }
    return { cid: this.cid!, user: this.user! };
  }

  async joinRealtime({ group }: { group?: string | null }): Promise<{ type: 'success'; message: string }> {
    if (this.group) this.post({ kind: 'leave', group: this.group, user_id: this.user!.user_id, cid: this.cid!, code: 'USER_LEFT' });
    this.group = group || null;
    if (!this.group) return { type: 'success', message: 'Left realtime message group.' };
    const frame: Frame = { kind: 'join', group: this.group, user_id: this.user!.user_id, cid: this.cid!, code: 'USER_JOINED' };
    this.post(frame);
    this.onFrame(frame);
    return { type: 'success', message: `Joined realtime message group: "${this.group}".` };
  }

  async postRealtime(message: unknown, recipient: string): Promise<{ type: 'success'; message: string }> {
    const frame: Frame = recipient.startsWith('cid:')
      ? { kind: 'msg', group: null, to: recipient, message, user_id: this.user!.user_id, cid: this.cid! }
      : { kind: 'msg', group: recipient, to: null, message, user_id: this.user!.user_id, cid: this.cid! };
    this.post(frame);
    if (frame.group) this.onFrame(frame);
    return { type: 'success', message: 'Message sent.' };
  }

  async getRealtimeUsers(
    params: { group?: string },
    _fetch?: { startKey?: string },
  ): Promise<{ list: { user_id: string; cid: string }[]; startKey: string; endOfList: boolean }> {
    const req = rand();
    const list = [{ user_id: this.user!.user_id, cid: this.cid! }];
    this.waiting.set(req, (row) => list.push(row));
    this.post({ kind: 'who', group: params.group ?? this.group ?? '', req, cid: this.cid! });
    await new Promise((r) => setTimeout(r, 150));
    this.waiting.delete(req);
    return { list, startKey: 'end', endOfList: true };
  }

  async closeRealtime(): Promise<void> {
    for (const call of [...this.calls.values()]) call.hangup('hangup');
    if (this.group) this.post({ kind: 'leave', group: this.group, user_id: this.user!.user_id, cid: this.cid!, code: 'USER_DISCONNECTED' });
    this.group = null;
    this.bc?.close();
    this.bc = null;
    this.emit({ type: 'close', message: 'WebSocket connection closed.' });
  }

  sendRtc(to: string, call: string, signal: Signal): void {
    this.post({ kind: 'rtc', to, call, signal, user_id: this.user!.user_id, cid: this.cid!, name: this.user!.name });
  }

  forget(call: string): void {
    this.calls.delete(call);
  }

  async connectRTC(params: RTCConnectorParams, cb: RTCCallback): Promise<RTCConnector> {
    const media = params.media instanceof MediaStream ? params.media : null;
    const callId = rand();
    const call = new MockCall(this, callId, params.cid, '', cb, media, this.cid! > params.cid);
    this.calls.set(callId, call);
    call.wire(call.pc.createDataChannel('default', { ordered: true }));
    const connection = new Promise<RTCResolved>((resolve, reject) => {
      call.resolveConnection = resolve;
      call.rejectConnection = reject;
    });
    call.send({ kind: 'invite', media: { audio: !!media?.getAudioTracks().length, video: !!media?.getVideoTracks().length } });
    call.ringTimer = window.setTimeout(() => {
      call.hangup('timeout');
      call.rejectConnection?.(new MockError('RTC_TIMEOUT', 'Nobody answered within the ring timeout.'));
    }, this.options.ringTimeoutMs ?? 30_000);
    return {
      call: callId,
      connection,
      hangup: () => {
        if (!call.accepted) {
          call.hangup('cancelled');
          call.rejectConnection?.(new MockError('RTC_CANCELLED', 'The caller hung up while the call was ringing.'));
        } else {
          call.hangup('hangup');
        }
      },
    };
  }

  private onFrame(frame: Frame): void {
    const me = this.user;
    if (!me) return;
    switch (frame.kind) {
      case 'join':
      case 'leave':
        if (frame.group !== this.group) return;
        this.emit({
          type: 'notice',
          code: frame.code,
          message: `"${frame.user_id}" ${frame.kind === 'join' ? 'has joined the message group.' : 'has left the message group.'}`,
          sender: frame.user_id,
          sender_cid: frame.cid,
          sender_rid: frame.group,
        });
        if (frame.kind === 'leave') {
          for (const call of [...this.calls.values()]) {
            if (call.peerCid !== frame.cid) continue;
            call.rejectConnection?.(new MockError('RTC_PEER_GONE', 'Gone.'));
            call.close();
            this.emit({
              type: 'rtc:closed',
              message: { hungup: frame.user_id, reason: 'peer_gone', call: call.call },
              sender: frame.user_id,
              sender_cid: frame.cid,
              sender_rid: null,
              code: null,
            });
          }
        }
        return;
      case 'who':
        if (frame.group === this.group) this.post({ kind: 'here', req: frame.req, to: frame.cid, user_id: me.user_id, cid: this.cid! });
        return;
      case 'here':
        if (frame.to === this.cid!) this.waiting.get(frame.req)?.({ user_id: frame.user_id, cid: frame.cid });
        return;
      case 'msg':
        if (frame.to === this.cid!)
          this.emit({ type: 'private', message: frame.message, sender: frame.user_id, sender_cid: frame.cid, sender_rid: null, code: null });
        else if (frame.group && frame.group === this.group)
          this.emit({ type: 'message', message: frame.message, sender: frame.user_id, sender_cid: frame.cid, sender_rid: frame.group, code: null });
        return;
      case 'rtc':
        if (frame.to === this.cid!) this.onRtc(frame);
        return;
    }
  }

  private onRtc(frame: Extract<Frame, { kind: 'rtc' }>): void {
    const { signal, call: callId } = frame;
    const call = this.calls.get(callId);
    if (signal.kind === 'invite') {
      this.ringing.set(callId, { from: frame.cid, user: frame.user_id });
      const sb = this;
      this.emit({
        type: 'rtc:incoming',
        call: callId,
        sender: frame.user_id,
        sender_cid: frame.cid,
        sender_rid: null,
        code: null,
        sender_name: frame.name,
        media: signal.media,
        async connectRTC(params: RTCReceiverParams | undefined, cb: RTCCallback): Promise<RTCResolved | null> {
          if (!sb.ringing.delete(callId)) return null;
          const media = params?.media instanceof MediaStream ? params.media : null;
          const c = new MockCall(sb, callId, frame.cid, frame.user_id, cb, media, sb.cid! > frame.cid);
          sb.calls.set(callId, c);
          c.send({ kind: 'accept' });
          return c.resolved();
        },
        hangup(reason?: 'rejected' | 'busy'): void {
          const live = sb.calls.get(callId);
          if (live) {
            live.hangup('hangup');
            return;
          }
          if (sb.ringing.delete(callId)) sb.sendRtc(frame.cid, callId, { kind: 'reject', reason: reason ?? 'rejected' });
        },
      });
      return;
    }
    if (signal.kind === 'hangup') {
      const wasRinging = this.ringing.delete(callId);
      if (call) call.close();
      if (call || wasRinging)
        this.emit({
          type: 'rtc:closed',
          message: { hungup: frame.user_id, reason: signal.reason, call: callId },
          sender: frame.user_id,
          sender_cid: frame.cid,
          sender_rid: null,
          code: null,
        });
      return;
    }
    if (!call) return;
    if (signal.kind === 'accept') {
      window.clearTimeout(call.ringTimer);
      call.accepted = true;
      call.resolveConnection?.(call.resolved());
      void call.negotiate();
    } else if (signal.kind === 'reject') {
      window.clearTimeout(call.ringTimer);
      call.rejectConnection?.(signal.reason === 'busy' ? new MockError('RTC_BUSY', 'Busy.') : new MockError('RTC_REJECTED', 'Declined.'));
      call.close();
    } else {
      void call.onSignal(signal);
    }
  }
}
