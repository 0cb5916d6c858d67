/**
 * A small in-memory WebRTC for the call-layer unit tests: RTCPeerConnection (offer/answer
 * state machine, implicit rollback, candidates, linked data channels, tracks), data channels,
 * tracks and streams. Real WebRTC is proven in the e2e suites; these only drive the state machine.
 */
class Target {
  private readonly listeners = new Map<string, Set<(e: unknown) => void>>();
  addEventListener(type: string, fn: (e: never) => void, opts?: { once?: boolean }): void {
    const wrapped = opts?.once
      ? (e: unknown) => {
          this.removeEventListener(type, wrapped);
          (fn as (e: unknown) => void)(e);
        }
      : (fn as (e: unknown) => void);
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(wrapped);
  }
  removeEventListener(type: string, fn: (e: never) => void): void {
    this.listeners.get(type)?.delete(fn as (e: unknown) => void);
  }
  dispatch(type: string, fields: Record<string, unknown> = {}): void {
    const event = { type, timeStamp: performance.now(), ...fields };
    for (const fn of [...(this.listeners.get(type) ?? [])]) fn(event);
  }
}

export class FakeTrack {
  readyState: 'live' | 'ended' = 'live';
  constructor(
    readonly kind: 'audio' | 'video',
    readonly id = Math.random().toString(36).slice(2),
  ) {}
  stop(): void {
    this.readyState = 'ended';
  }
}

export class FakeStream {
  constructor(readonly tracks: FakeTrack[]) {}
  getTracks(): FakeTrack[] {
    return this.tracks;
  }
}

export class FakeChannel extends Target {
  readyState: RTCDataChannelState = 'connecting';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  remote: FakeChannel | null = null;
  readonly id: number | null;
  readonly ordered: boolean;
  readonly negotiated: boolean;
  readonly protocol: string;
  readonly maxRetransmits: number | null;
  readonly maxPacketLifeTime: number | null;
  constructor(
    readonly label: string,
    readonly init: RTCDataChannelInit = {},
  ) {
    super();
    this.id = init.id ?? null;
    this.ordered = init.ordered ?? true;
    this.negotiated = init.negotiated ?? false;
    this.protocol = init.protocol ?? '';
    this.maxRetransmits = init.maxRetransmits ?? null;
    this.maxPacketLifeTime = init.maxPacketLifeTime ?? null;
  }
  send(data: string): void {
    if (this.readyState !== 'open') throw new Error('InvalidStateError: channel not open');
    const remote = this.remote;
    setTimeout(() => {
      if (remote?.readyState === 'open') remote.dispatch('message', { data, lastEventId: '', origin: '' });
    }, 0);
  }
  open(): void {
    if (this.readyState !== 'connecting') return;
    this.readyState = 'open';
    this.dispatch('open');
  }
  close(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    setTimeout(() => this.dispatch('close'), 0);
    this.remote?.close();
  }
}

let pcCounter = 0;

export class FakePC extends Target {
  static readonly all: FakePC[] = [];
  readonly name = `pc${++pcCounter}`;
  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  iceConnectionState: RTCIceConnectionState = 'new';
  iceGatheringState: RTCIceGatheringState = 'new';
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  readonly channels: FakeChannel[] = [];
  readonly senders: { track: FakeTrack; streams: FakeStream[] }[] = [];
  readonly candidatesAdded: (RTCIceCandidateInit | null)[] = [];
  peer: FakePC | null = null;
  closed = false;
  private version = 0;
  private dirty = false;
  private nnQueued = false;
  private tracksSeen = 0;
  private ufrag = 1;

  constructor(readonly config?: RTCConfiguration) {
    super();
    FakePC.all.push(this);
  }

  addTrack(track: FakeTrack, ...streams: FakeStream[]): object {
    const sender = { track, streams };
    this.senders.push(sender);
    this.needNegotiation();
    return sender;
  }

  createDataChannel(label: string, init?: RTCDataChannelInit): FakeChannel {
    const channel = new FakeChannel(label, init);
    this.channels.push(channel);
    if (!init?.negotiated && !this.channels.some((c) => c !== channel && !c.negotiated) && this.connectionState !== 'connected') this.needNegotiation();
    if (this.connectionState === 'connected') setTimeout(() => this.linkChannels(), 0);
    return channel;
  }

  restartIce(): void {
    this.ufrag += 1;
    this.needNegotiation();
  }

  async setLocalDescription(description?: RTCSessionDescriptionInit): Promise<void> {
    await Promise.resolve();
    if (this.closed) throw new Error('InvalidStateError: closed');
    if (description?.type === 'rollback') {
      this.setSignaling('stable');
      return;
    }
    const type = description?.type ?? (this.signalingState === 'have-remote-offer' ? 'answer' : 'offer');
    if (type === 'offer') {
      if (this.signalingState !== 'stable' && this.signalingState !== 'have-local-offer') throw new Error(`InvalidStateError: offer in ${this.signalingState}`);
      this.localDescription = { type, sdp: this.sdp() };
      this.setSignaling('have-local-offer');
    } else {
      if (this.signalingState !== 'have-remote-offer') throw new Error(`InvalidStateError: answer in ${this.signalingState}`);
      this.localDescription = { type, sdp: this.sdp() };
      this.setSignaling('stable');
      this.negotiated();
    }
    this.gather();
  }

  async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    await Promise.resolve();
    if (this.closed) throw new Error('InvalidStateError: closed');
    const from = FakePC.all.find((pc) => description.sdp?.startsWith(`fake ${pc.name} `));
    if (description.type === 'offer') {
      if (this.signalingState === 'have-local-offer') this.setSignaling('stable'); // implicit rollback
      if (this.signalingState !== 'stable') throw new Error(`InvalidStateError: remote offer in ${this.signalingState}`);
      this.remoteDescription = description;
      this.peer = from ?? null;
      this.setSignaling('have-remote-offer');
    } else if (description.type === 'answer') {
      if (this.signalingState !== 'have-local-offer') throw new Error(`InvalidStateError: remote answer in ${this.signalingState}`);
      this.remoteDescription = description;
      this.peer = from ?? null;
      this.setSignaling('stable');
      this.negotiated();
    }
    this.fireTracks();
  }

  async addIceCandidate(candidate?: RTCIceCandidateInit | null): Promise<void> {
    await Promise.resolve();
    if (!this.remoteDescription) throw new Error('InvalidStateError: no remote description');
    this.candidatesAdded.push(candidate ?? null);
  }

  async getStats(): Promise<Map<string, unknown>> {
    return new Map();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.signalingState = 'closed';
    this.connectionState = 'closed';
    this.iceConnectionState = 'closed';
    for (const channel of this.channels) {
      channel.readyState = 'closed';
      const remote = channel.remote;
      if (remote && remote.readyState !== 'closed') {
        remote.readyState = 'closed';
        setTimeout(() => remote.dispatch('close'), 0);
      }
    }
  }

  /** Test hook: the network path changes state (disconnected, failed, connected). */
  setPath(state: 'connected' | 'disconnected' | 'failed'): void {
    this.connectionState = state;
    this.iceConnectionState = state;
    this.dispatch('iceconnectionstatechange');
    this.dispatch('connectionstatechange');
  }

  private sdp(): string {
    return `fake ${this.name} v${++this.version} ufrag${this.ufrag} tracks${this.senders.length}`;
  }

  private setSignaling(state: RTCSignalingState): void {
    if (this.signalingState === state) return;
    this.signalingState = state;
    this.dispatch('signalingstatechange');
    if (state === 'stable' && this.dirty) this.needNegotiation(true);
  }

  private needNegotiation(force = false): void {
    if (!force) this.dirty = true;
    if (this.nnQueued) return;
    this.nnQueued = true;
    setTimeout(() => {
      this.nnQueued = false;
      if (!this.closed && this.dirty && this.signalingState === 'stable') this.dispatch('negotiationneeded');
    }, 0);
  }

  private negotiated(): void {
    this.dirty = false;
    const peer = this.peer;
    if (!peer) return;
    setTimeout(() => {
      for (const pc of [this, peer]) {
        if (pc.closed || pc.connectionState === 'connected') continue;
        pc.setPath('connected');
      }
      this.linkChannels();
    }, 0);
  }

  private linkChannels(): void {
    const peer = this.peer;
    if (!peer || this.closed || peer.closed) return;
    for (const [a, b] of [
      [this, peer],
      [peer, this],
    ] as const) {
      for (const channel of a.channels) {
        if (channel.remote || channel.readyState !== 'connecting') continue;
        let remote: FakeChannel | undefined;
        if (channel.negotiated) {
          remote = b.channels.find((c) => c.negotiated && c.id === channel.id && !c.remote);
          if (!remote) continue;
        } else {
          remote = new FakeChannel(channel.label, channel.init);
          b.channels.push(remote);
          b.dispatch('datachannel', { channel: remote });
        }
        channel.remote = remote;
        remote.remote = channel;
        channel.open();
        remote.open();
      }
    }
  }

  private fireTracks(): void {
    const peer = this.peer;
    if (!peer) return;
    while (this.tracksSeen < peer.senders.length) {
      const sender = peer.senders[this.tracksSeen++]!;
      this.dispatch('track', { track: sender.track, streams: sender.streams, receiver: {}, transceiver: {} });
    }
  }

  private gather(): void {
    setTimeout(() => {
      if (this.closed) return;
      const candidate = {
        candidate: `candidate:1 1 udp 1 127.0.0.1 ${1000 + this.ufrag} typ host`,
        sdpMid: '0',
        sdpMLineIndex: 0,
        usernameFragment: `u${this.ufrag}`,
        protocol: 'udp',
      };
      this.dispatch('icecandidate', { candidate: { ...candidate, toJSON: () => candidate } });
      this.dispatch('icecandidate', { candidate: null });
    }, 0);
  }
}
