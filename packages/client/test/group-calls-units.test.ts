/**
 * Group calls without browsers: the roster rules (who dials whom, the cap, the membership
 * messages), and GroupCall instances wired to a fake realtime bus that delivers posts and
 * invites between them, so the dial rule and the cap are checked on whole meshes.
 */
import { SwitchboardError } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { GroupCall, type GroupCallEvent } from '../src/group/group-call.js';
import { answerJoin, checkMax, dials, groupSignal, parseGroupSignal, DEFAULT_MAX_PARTICIPANTS } from '../src/group/roster.js';
import type { Switchboard, SwitchboardInternals } from '../src/switchboard.js';
import type { RealtimeEvent, RTCConnectorParams, RTCResolved } from '../src/types.js';

describe('roster rules', () => {
  const cids = ['cid:Zq', 'cid:a1', 'cid:A0', 'cid:m-', 'cid:_x', 'cid:09'];
  it('of every two members exactly one dials', () => {
    for (const a of cids) for (const b of cids) if (a !== b) expect(dials(a, b) !== dials(b, a), `${a} ${b}`).toBe(true);
    for (const a of cids) expect(dials(a, a)).toBe(false);
  });
  it('a member answers full once the call has maxParticipants (itself and the peers it knows)', () => {
    expect(DEFAULT_MAX_PARTICIPANTS).toBe(6);
    expect(answerJoin(5, 6)).toBe('here');
    expect(answerJoin(6, 6)).toBe('full');
    expect(answerJoin(1, 2)).toBe('here');
    expect(answerJoin(2, 2)).toBe('full');
  });
  it('maxParticipants: 6 by default, an integer from 2 to 16', () => {
    expect(checkMax(undefined)).toBe(6);
    expect(checkMax(3)).toBe(3);
    for (const bad of [1, 17, 2.5, '4', null]) expect(typeof checkMax(bad)).toBe('string');
  });
  it('membership messages are recognised by their tag; app messages are not', () => {
    expect(parseGroupSignal(groupSignal('join', 'ann'))).toEqual(groupSignal('join', 'ann'));
    expect(parseGroupSignal({ $switchboard: 'switchboard:group-call', op: 'dance' })).toBeNull();
    for (const app of [null, 0, 'join', { op: 'join' }, [groupSignal('join', null)]]) expect(parseGroupSignal(app)).toBeNull();
  });
});

/** Connections on one fake server: group posts, posts to a cid, and calls that connect at once. */
class Bus {
  readonly members = new Map<string, Member>();
  /** Every call placed: [caller, callee]. */
  readonly dialled: [string, string][] = [];
  deliver(to: string, event: RealtimeEvent): void {
    const member = this.members.get(to);
    if (member) queueMicrotask(() => member.realtime.emit(event));
  }
}

interface Member {
  cid: string;
  realtime: { group: string | null; emit(event: RealtimeEvent): void };
  call: GroupCall;
  events: GroupCallEvent[];
  app: RealtimeEvent[];
}

let counter = 0;

function member(bus: Bus, max?: number): Member {
  const cid = `cid:m${String(counter++).padStart(3, '0')}`;
  const events: GroupCallEvent[] = [];
  const app: RealtimeEvent[] = [];
  const realtime = { group: 'room' as string | null, emit: (event: RealtimeEvent) => void app.push(event) };
  const resolved = (peer: string, call: string): RTCResolved => ({
    target: {} as RTCPeerConnection,
    channels: {},
    hangup: () => bus.deliver(peer, closed(call)),
    media: null,
    call,
  });
  const closed = (call: string): RealtimeEvent => ({
    type: 'rtc:closed',
    message: { hungup: null, reason: 'hangup', call },
    sender: null,
    sender_cid: null,
    sender_rid: null,
    code: null,
  });
  const sb = {
    cid,
    user: { user_id: cid, name: null },
    async postRealtime(message: unknown, recipient: string) {
      const kind = recipient === 'room' ? 'message' : 'private';
      const targets = recipient === 'room' ? [...bus.members.keys()] : [recipient];
      for (const to of targets) bus.deliver(to, { type: kind, message, sender: cid, sender_cid: cid, sender_rid: null, code: null });
      return { type: 'success', message: 'sent', delivered: targets.length };
    },
    async connectRTC({ cid: to = '' }: RTCConnectorParams) {
      const params = { cid: to }; // the group add-on always dials a cid
      const call = `call-${cid}-${params.cid}`;
      bus.dialled.push([cid, params.cid]);
      let settle!: (r: RTCResolved) => void;
      const connection = new Promise<RTCResolved>((resolve) => (settle = resolve));
      bus.deliver(params.cid, {
        type: 'rtc:incoming',
        sender: cid,
        sender_cid: cid,
        sender_rid: null,
        code: null,
        call,
        sender_name: null,
        media: null,
        connectRTC: async () => {
          settle(resolved(params.cid, call));
          return resolved(cid, call);
        },
        hangup: () => undefined,
      });
      return { hangup: () => bus.deliver(params.cid, closed(call)), connection, call };
    },
  } as unknown as Switchboard;
  const internals = { realtime } as unknown as SwitchboardInternals;
  const options = { stream: null, owned: [], channels: undefined, ice: undefined, iceTransportPolicy: undefined, max: max ?? 6 };
  const call = new GroupCall(
    sb,
    internals,
    (e) => void events.push(e),
    options,
    () => undefined,
  );
  const m: Member = { cid, realtime, call, events, app };
  bus.members.set(cid, m);
  return m;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
const sorted = (xs: string[]) => [...xs].sort();

describe('a mesh of GroupCalls on a fake bus', () => {
  it('six joining one after another: one call per pair, placed by the smaller cid, nobody else sees the signalling', async () => {
    const bus = new Bus();
    const all: Member[] = [];
    for (let i = 0; i < 6; i++) {
      const m = member(bus);
      all.push(m);
      await m.call.join(0);
      await settle();
    }
    for (const m of all) expect(sorted(m.call.peers.map((p) => p.cid))).toEqual(sorted(all.filter((o) => o !== m).map((o) => o.cid)));
    expect(bus.dialled).toHaveLength(15);
    const pairs = new Set(bus.dialled.map(([a, b]) => sorted([a, b]).join(' ')));
    expect(pairs.size).toBe(15);
    for (const [caller, callee] of bus.dialled) expect(caller < callee).toBe(true);
    for (const m of all) expect(m.app).toEqual([]);
  });

  it('six joining at once form the same mesh', async () => {
    const bus = new Bus();
    const all = Array.from({ length: 6 }, () => member(bus));
    await Promise.all(all.map((m) => m.call.join(0)));
    await settle();
    for (const m of all) expect(m.call.peers).toHaveLength(5);
    expect(new Set(bus.dialled.map(([a, b]) => sorted([a, b]).join(' '))).size).toBe(15);
    expect(bus.dialled).toHaveLength(15);
  });

  it('the seventh gets GROUP_CALL_FULL, nobody dials it, and the six stay as they were', async () => {
    const bus = new Bus();
    const six = Array.from({ length: 6 }, () => member(bus));
    for (const m of six) {
      await m.call.join(0);
      await settle();
    }
    const dialled = bus.dialled.length;
    const seventh = member(bus);
    const error = await seventh.call.join(1000).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SwitchboardError);
    expect((error as SwitchboardError).code).toBe('GROUP_CALL_FULL');
    await settle();
    expect(bus.dialled.length).toBe(dialled);
    for (const m of six) expect(m.call.peers).toHaveLength(5);
    expect(seventh.call.peers).toHaveLength(0);
  });

  it('a configurable cap: 3', async () => {
    const bus = new Bus();
    const three = Array.from({ length: 3 }, () => member(bus, 3));
    for (const m of three) {
      await m.call.join(0);
      await settle();
    }
    const fourth = member(bus, 3);
    await expect(fourth.call.join(1000)).rejects.toMatchObject({ code: 'GROUP_CALL_FULL' });
  });

  it('leave: the others drop the member at once (left); a member whose connection dies is dropped (gone)', async () => {
    const bus = new Bus();
    const all = Array.from({ length: 4 }, () => member(bus));
    for (const m of all) {
      await m.call.join(0);
      await settle();
    }
    const [a, b, c, d] = all as [Member, Member, Member, Member];
    await d.call.leave();
    await settle();
    for (const m of [a, b, c]) {
      expect(m.call.peers.map((p) => p.cid)).not.toContain(d.cid);
      expect(m.events.find((e) => e.type === 'peer:left' && e.peer.cid === d.cid)).toMatchObject({ reason: 'left' });
    }
    expect(d.events.at(-1)).toEqual({ type: 'closed' });
    a.realtime.emit({ type: 'notice', message: 'gone', code: 'USER_DISCONNECTED', sender: c.cid, sender_cid: c.cid, sender_rid: null });
    expect(a.call.peers.map((p) => p.cid)).toEqual([b.cid]);
    expect(a.events.find((e) => e.type === 'peer:left' && e.peer.cid === c.cid)).toMatchObject({ reason: 'gone' });
    // Notices still reach the app.
    expect(a.app.some((e) => e.type === 'notice')).toBe(true);
  });

  it('closeRealtime ends the group call too (closed, no members), and the app still gets its close', async () => {
    const bus = new Bus();
    const [a, b] = [member(bus), member(bus)];
    for (const m of [a, b]) {
      await m.call.join(0);
      await settle();
    }
    expect(a.call.peers).toHaveLength(1);
    a.realtime.emit({ type: 'close', message: 'closed' });
    await settle();
    expect(a.call.peers).toHaveLength(0);
    expect(a.events.at(-1)).toEqual({ type: 'closed' });
    expect(a.app.some((e) => e.type === 'close')).toBe(true);
  });
});
