/**
 * One group call: a full mesh of 1:1 calls (connectRTC) between the members, in the joined
 * realtime group. Membership rules: roster.ts. Each pair of members is an ordinary call of the
 * call layer, so perfect negotiation, ICE restarts, TURN and the two-path hang-up apply per pair.
 *
 * The SDK consumes what belongs to the mesh before the app's realtime callback sees it: the
 * membership messages, the invites from members (accepted here) and their `rtc:closed`.
 */
import { SwitchboardError } from '@switchboard/protocol';
import type { Switchboard, SwitchboardInternals } from '../switchboard.js';
import type { ChannelParam, ChannelPreset, IceParam, RealtimeEvent, RtcIncomingEvent, RTCConnector, RTCEvent } from '../types.js';
import type { GroupCallCallback, GroupCallEvent, GroupPeer, GroupPeerLeftReason, MeshOptions } from './types.js';
import { answerJoin, dials, groupSignal, parseGroupSignal, type GroupOp } from './roster.js';
import { tapRealtime } from './tap.js';

export type { GroupCallCallback, GroupCallEvent, GroupPeer, GroupPeerLeftReason, MeshOptions } from './types.js';

interface Entry extends GroupPeer {
  hangup: (() => void) | null;
  connected: boolean;
}

export class GroupCall {
  private readonly members = new Map<string, Entry>();
  /** Ids of this mesh's calls whose `rtc:closed` has not arrived yet (consumed, even after leave). */
  private readonly calls = new Set<string>();
  private readonly untap: () => void;
  private ended = false;
  private rejoinAfterReconnect = false;
  /** Set while join() waits for the roll call: a `full` answer rejects it. */
  private onFull: ((error: SwitchboardError) => void) | null = null;

  constructor(
    private readonly sb: Switchboard,
    private readonly internals: SwitchboardInternals,
    private readonly cb: GroupCallCallback,
    private readonly options: MeshOptions,
    private readonly onEnd: () => void,
  ) {
    this.untap = tapRealtime(internals.realtime, (event) => this.handleRealtime(event));
  }

  /** The other members, in the order they were seen. */
  get peers(): GroupPeer[] {
    return [...this.members.values()];
  }

  /** The local stream sent to every member (null for a data-only call). */
  get media(): MediaStream | null {
    return this.options.stream;
  }

  get maxParticipants(): number {
    return this.options.max;
  }

  /** Announces this connection and waits `rollCallMs` for the members' answers; rejects with GROUP_CALL_FULL. */
  async join(rollCallMs: number): Promise<void> {
    const full = new Promise<never>((_, reject) => (this.onFull = reject));
    full.catch(() => undefined);
    try {
      await this.broadcast('join');
      await Promise.race([full, new Promise((resolve) => setTimeout(resolve, rollCallMs))]);
    } catch (error) {
      await this.leave();
      throw error;
    } finally {
      this.onFull = null;
    }
  }

  /** Hangs up every member (they hear `leave` at once), stops the tracks the SDK opened. Idempotent. */
  async leave(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
    const leaving = this.broadcast('leave').catch(() => undefined);
    for (const entry of [...this.members.values()]) this.remove(entry, 'left', true);
    for (const track of this.options.owned) track.stop();
    await leaving;
    if (this.calls.size === 0) this.untap();
    this.emit({ type: 'closed' });
  }

  /** Sends `data` on the channel `label` of every member whose channel is open; returns how many. */
  send(label: string, data: string | ArrayBuffer | ArrayBufferView | Blob): number {
    let sent = 0;
    for (const entry of this.members.values()) {
      const channel = entry.channels[label];
      if (channel?.readyState !== 'open') continue;
      channel.send(data as string);
      sent += 1;
    }
    return sent;
  }

  private handleRealtime(event: RealtimeEvent): boolean {
    if (event.type === 'rtc:closed' && this.calls.delete(event.message.call)) {
      const entry = this.entryForCall(event.message.call);
      // In a mesh a member hangs up only when it leaves (often heard here first, over the data channel).
      if (entry) this.remove(entry, event.message.reason === 'hangup' ? 'left' : event.message.reason, false);
      if (this.ended && this.calls.size === 0) this.untap();
      return true;
    }
    if (this.ended) return false;
    switch (event.type) {
      case 'message':
      case 'private': {
        const signal = parseGroupSignal(event.message);
        if (!signal) return false;
        const from = event.sender_cid;
        if (from && from !== this.sb.cid) void this.handleSignal(signal.op, from, event.sender, signal.name);
        return true;
      }
      case 'notice':
        // A member's connection left the group or died (the server's heartbeat noticed).
        if ((event.code === 'USER_LEFT' || event.code === 'USER_DISCONNECTED') && event.sender_cid) {
          const entry = this.members.get(event.sender_cid);
          if (entry) this.remove(entry, 'gone', true);
        }
        return false;
      case 'rtc:incoming':
        return this.handleInvite(event);
      case 'reconnect':
        // A new connection (new cid): the calls ended with the old one; announce ourselves again.
        if ('resumed' in event && !event.resumed) this.rejoinAfterReconnect = true;
        return false;
      case 'close': // closeRealtime(): the calls end with it; so does the group call
        void this.leave();
        return false;
      case 'success':
        if (this.rejoinAfterReconnect) {
          this.rejoinAfterReconnect = false;
          for (const entry of [...this.members.values()]) this.remove(entry, 'gone', true);
          void this.broadcast('join').catch(() => undefined);
        }
        return false;
      default:
        return false;
    }
  }

  private async handleSignal(op: GroupOp, from: string, userId: string | null, name: string | null): Promise<void> {
    switch (op) {
      case 'join': {
        // Already a member: its `here` to our own join overtook its broadcast `join` (the server
        // fans a group post out separately from a post to one cid). Answer again, change nothing.
        if (this.members.has(from)) {
          await this.sb.postRealtime(groupSignal('here', this.selfName()), from).catch(() => undefined);
          return;
        }
        const answer = answerJoin(1 + this.members.size, this.options.max);
        // The answer goes out before our invite (both are posts to that one cid, delivered in order): the joiner knows us when it rings.
        const entry = answer === 'here' ? this.add(from, userId, name) : null;
        await this.sb.postRealtime(groupSignal(answer, this.selfName()), from).catch(() => undefined);
        if (entry && dials(this.sb.cid ?? '', from)) await this.dial(entry);
        return;
      }
      case 'here': {
        if (this.members.has(from)) return;
        const entry = this.add(from, userId, name);
        if (dials(this.sb.cid ?? '', from)) await this.dial(entry);
        return;
      }
      case 'full':
        this.onFull?.(new SwitchboardError('GROUP_CALL_FULL', `The group call already has ${this.options.max} participants.`));
        return;
      case 'leave': {
        const entry = this.members.get(from);
        if (entry) this.remove(entry, 'left', true);
        return;
      }
    }
  }

  private add(cid: string, userId: string | null, name: string | null): Entry {
    const entry: Entry = {
      cid,
      user_id: userId,
      name,
      state: 'new',
      target: null,
      channels: {},
      streams: [],
      call: null,
      hangup: null,
      connected: false,
    };
    this.members.set(cid, entry);
    this.emit({ type: 'peer:joined', peer: entry });
    return entry;
  }

  private async dial(entry: Entry): Promise<void> {
    let connector: RTCConnector;
    try {
      connector = await this.sb.connectRTC({ cid: entry.cid, ...this.callParams() }, (e) => this.handleRtc(entry, e));
    } catch {
      this.remove(entry, 'error', false);
      return;
    }
    entry.call = connector.call;
    this.calls.add(connector.call);
    entry.hangup = connector.hangup;
    if (this.members.get(entry.cid) !== entry) return connector.hangup(); // removed meanwhile
    connector.connection.then(
      (resolved) => this.accepted(entry, resolved),
      (error: unknown) => this.remove(entry, error instanceof SwitchboardError ? error.code : 'error', false),
    );
  }

  private handleInvite(event: RtcIncomingEvent): boolean {
    const entry = event.sender_cid ? this.members.get(event.sender_cid) : undefined;
    if (!entry || entry.call !== null) return false;
    entry.call = event.call;
    this.calls.add(event.call);
    entry.hangup = () => event.hangup();
    event
      .connectRTC(this.callParams(), (e) => this.handleRtc(entry, e))
      .then(
        (resolved) => (resolved ? this.accepted(entry, resolved) : this.remove(entry, 'cancelled', false)),
        () => this.remove(entry, 'error', false),
      );
    return true;
  }

  private accepted(entry: Entry, resolved: { target: RTCPeerConnection; channels: Record<string, RTCDataChannel>; hangup: () => void; call: string }): void {
    if (this.members.get(entry.cid) !== entry) return resolved.hangup();
    entry.target = resolved.target;
    entry.channels = resolved.channels;
    entry.hangup = resolved.hangup;
    entry.call = resolved.call;
  }

  private handleRtc(entry: Entry, event: RTCEvent): void {
    if (this.members.get(entry.cid) !== entry) return;
    if ('target' in event && event.target && 'connectionState' in event.target && 'getStats' in event.target) {
      entry.target = event.target as RTCPeerConnection;
    }
    this.emit({ type: 'peer:rtc', peer: entry, event });
    switch (event.type) {
      case 'track':
        for (const stream of event.streams) if (!entry.streams.includes(stream)) entry.streams.push(stream);
        this.emit({ type: 'peer:track', peer: entry, track: event.track, streams: event.streams });
        return;
      case 'connectionstatechange':
        entry.state = event.state;
        this.emit({ type: 'peer:state', peer: entry, state: event.state });
        if (event.state === 'connected' && !entry.connected) {
          entry.connected = true;
          this.emit({ type: 'peer:connected', peer: entry });
        }
        return;
      case 'message':
        this.emit({ type: 'peer:message', peer: entry, label: event.label, data: event.data });
        return;
      default:
        return;
    }
  }

  /** Drops a member; `hangUp`: end its call here too (it may still be live). */
  private remove(entry: Entry, reason: GroupPeerLeftReason, hangUp: boolean): void {
    if (this.members.get(entry.cid) !== entry) return;
    this.members.delete(entry.cid);
    entry.state = 'closed';
    if (hangUp) entry.hangup?.();
    this.emit({ type: 'peer:left', peer: entry, reason });
  }

  private entryForCall(call: string): Entry | undefined {
    for (const entry of this.members.values()) if (entry.call === call) return entry;
    return undefined;
  }

  private callParams(): { media?: MediaStream; channels?: ChannelParam[] | ChannelPreset; ice?: IceParam; iceTransportPolicy?: RTCIceTransportPolicy } {
    const { stream, channels, ice, iceTransportPolicy } = this.options;
    return {
      ...(stream ? { media: stream } : {}),
      ...(channels === undefined ? {} : { channels }),
      ...(ice === undefined ? {} : { ice }),
      ...(iceTransportPolicy === undefined ? {} : { iceTransportPolicy }),
    };
  }

  private broadcast(op: 'join' | 'leave'): Promise<unknown> {
    const group = this.internals.realtime.group;
    if (group === null) return Promise.reject(SwitchboardError.invalidRequest('Join a realtime group first (joinRealtime).'));
    return this.sb.postRealtime(groupSignal(op, this.selfName()), group);
  }

  private selfName(): string | null {
    return this.sb.user?.name ?? null;
  }

  private emit(event: GroupCallEvent): void {
    try {
      const result: unknown = this.cb(event);
      if (result instanceof Promise) result.catch((error: unknown) => console.error('Switchboard: the group call callback failed', error));
    } catch (error) {
      console.error('Switchboard: the group call callback failed', error);
    }
  }
}
