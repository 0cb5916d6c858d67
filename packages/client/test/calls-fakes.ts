/**
 * Fakes for the call-layer unit tests: a fake realtime server relaying `rtc` frames between
 * CallHosts, over the in-memory WebRTC of fake-webrtc.ts. Real WebRTC is proven in
 * e2e/calls-peer.test.ts and e2e/calls.test.ts; these only drive the state machine.
 */
import { SwitchboardError, type IceServer, type RtcSignal, type UserInfo } from '@switchboard/protocol';
import { createCallLayer } from '../src/calls/index.js';
import type { CallHost, CallLayer, Platform, RealtimeEvent } from '../src/types.js';
import { FakePC, FakeStream, FakeTrack } from './fake-webrtc.js';

export { FakeChannel, FakePC, FakeStream, FakeTrack } from './fake-webrtc.js';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

// ------------------------------------------------------------ realtime

export class FakeServer {
  readonly clients = new Map<string, FakeClient>();
  down = false;
  readonly frames: { from: string; to: string; call: string; signal: RtcSignal }[] = [];
  /** Frames are delivered in order, one macrotask each (as a socket would). */
  relay(from: FakeClient, to: string, call: string, signal: RtcSignal): Promise<void> {
    if (this.down || !from.connected) return Promise.reject(new SwitchboardError('CONNECTION_CLOSED', 'not connected'));
    const target = this.clients.get(to);
    if (!target?.connected) return Promise.reject(new SwitchboardError('RECIPIENT_NOT_FOUND', `no connection ${to}`));
    this.frames.push({ from: from.cid, to, call, signal });
    this.deliver(target, { call, sender: from.user.user_id, sender_cid: from.cid, sender_name: from.user.name, signal });
    return Promise.resolve();
  }
  deliver(target: FakeClient, frame: { call: string; sender: string; sender_cid: string; sender_name: string | null; signal: RtcSignal }): void {
    setTimeout(() => {
      if (target.connected) target.layer.handleSignal({ type: 'rtc', ...frame });
    }, 0);
  }
}

export interface ClientOptions {
  ringTimeoutMs?: number;
  secure?: boolean;
  getUserMedia?: boolean;
  /** How long getUserMedia takes (a camera opening). */
  mediaDelayMs?: number;
  /** false: a stack like libdatachannel's (restarts become renewals). */
  canRestartIce?: boolean;
}

export class FakeClient implements CallHost {
  readonly events: RealtimeEvent[] = [];
  readonly layer: CallLayer;
  readonly platform: Platform;
  readonly options: CallHost['options'];
  readonly opened: FakeStream[] = [];
  connected = true;
  user: UserInfo;
  /** What the server currently hands out as ICE servers (TURN credentials rotate). */
  turn: IceServer[] = [];

  constructor(
    readonly server: FakeServer,
    public cid: string,
    userId: string,
    opts: ClientOptions = {},
  ) {
    this.user = { user_id: userId, name: `name-${userId}` };
    server.clients.set(cid, this);
    this.options = { ringTimeoutMs: opts.ringTimeoutMs ?? 30_000, iceDisconnectGraceMs: 3000, maxIceRestarts: 3, iceRestartTimeoutMs: 10_000 };
    this.platform = {
      WebSocket: undefined as never,
      fetch: undefined as never,
      RTCPeerConnection: FakePC as never,
      getUserMedia:
        opts.getUserMedia === false
          ? undefined
          : async (c) => {
              if (opts.mediaDelayMs) await new Promise((resolve) => setTimeout(resolve, opts.mediaDelayMs));
              const tracks: FakeTrack[] = [];
              if (c.audio) tracks.push(new FakeTrack('audio'));
              if (c.video) tracks.push(new FakeTrack('video'));
              const stream = new FakeStream(tracks);
              this.opened.push(stream);
              return stream as never;
            },
      isSecureContext: () => opts.secure ?? true,
      kind: 'browser',
      ...(opts.canRestartIce === false ? { canRestartIce: false } : {}),
    };
    this.layer = createCallLayer(this);
  }

  sendSignal(to: string, call: string, signal: RtcSignal): Promise<void> {
    return this.server.relay(this, to, call, signal);
  }
  emitRealtime(event: RealtimeEvent): void {
    this.events.push(event);
  }
  self(): { cid: string; user: UserInfo } | null {
    return this.connected ? { cid: this.cid, user: this.user } : null;
  }
  iceServers(): IceServer[] {
    return this.turn;
  }

  of<T extends RealtimeEvent['type']>(type: T): Extract<RealtimeEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<RealtimeEvent, { type: T }> => e.type === type);
  }

  /** The realtime connection drops (and comes back, maybe with a new cid). */
  drop(): void {
    this.connected = false;
    this.layer.handleRealtimeState('closed');
  }
  reconnect(cid = this.cid): void {
    this.server.clients.delete(this.cid);
    this.cid = cid;
    this.server.clients.set(cid, this);
    this.connected = true;
    this.layer.handleRealtimeState('open');
  }
}

export async function until(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms: ${predicate.toString()}`);
    await tick();
  }
}
