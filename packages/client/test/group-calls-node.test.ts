/**
 * Group calls through the real server with Node members (node-datachannel, data channels only):
 * six members form a full mesh (15 calls, each placed once), messages reach everyone, the
 * seventh is refused with GROUP_CALL_FULL (the default cap), a member that leaves is dropped at
 * once, and one whose realtime connection is closed is dropped too. No browsers: cheap enough
 * for every run. The browser meshes (video, Firefox): e2e/group-calls.test.ts, e2e/firefox.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { joinGroupCall, type GroupCall, type GroupCallEvent } from '../src/group/index.js';
import { livePeerConnections } from '../src/node/index.js';
import { NodePeer } from './node-harness.js';
import { startServer, until, type TestServer } from './server.js';

interface Member {
  peer: NodePeer;
  call: GroupCall | null;
  events: GroupCallEvent[];
}

describe('group calls between Node members', () => {
  let server: TestServer;
  const members: Member[] = [];
  let counter = 0;

  beforeAll(async () => {
    server = await startServer({ guests: true });
  });
  afterEach(async () => {
    await Promise.all(members.splice(0).map((m) => m.peer.close()));
    await until(() => livePeerConnections() === 0, 10_000, 'every peer connection closed');
  });
  afterAll(() => server.close());

  async function member(group: string): Promise<Member> {
    const n = counter++;
    const peer = new NodePeer({ url: server.url, token: await server.token(`member-${n}`, `Member ${n}`) });
    await peer.connect(group);
    const m: Member = { peer, call: null, events: [] };
    members.push(m);
    return m;
  }

  const join = async (m: Member, params = {}): Promise<GroupCall> => {
    m.call = await joinGroupCall(m.peer.sb, { rollCallMs: 300, ...params }, (e) => void m.events.push(e));
    return m.call;
  };
  const connectedTo = (m: Member): string[] =>
    (m.call?.peers ?? [])
      .filter((p) => p.state === 'connected')
      .map((p) => p.cid)
      .sort();
  const cidsBut = (all: Member[], m: Member): string[] =>
    all
      .filter((o) => o !== m)
      .map((o) => o.peer.cid)
      .sort();

  it('six members: a full mesh, messages to everyone, the seventh refused, leave and a closed connection dropped', async () => {
    const group = `mesh-${counter}`;
    const six: Member[] = [];
    const started = Date.now();
    for (let i = 0; i < 6; i++) {
      const m = await member(group);
      await join(m);
      six.push(m);
    }
    await until(() => six.every((m) => JSON.stringify(connectedTo(m)) === JSON.stringify(cidsBut(six, m))), 30_000, 'a full mesh of six');
    const meshMs = Date.now() - started;
    // 15 pairs, one peer connection at each end: 30 in this process.
    expect(livePeerConnections()).toBe(30);
    // The invites were accepted by the group call: the apps' realtime callbacks saw no call and no membership message.
    for (const m of six) {
      expect(m.peer.rt.events.filter((e) => e.type === 'rtc:incoming' || e.type === 'rtc:closed')).toEqual([]);
      expect(m.peer.rt.events.filter((e) => e.type === 'private')).toEqual([]);
    }

    // Messages: every member to everyone.
    const [first] = six as [Member];
    await until(() => six.every((m) => m.call!.peers.every((p) => p.channels['default']?.readyState === 'open')), 10_000, 'every channel open');
    for (const m of six) expect(m.call!.send('default', `hi from ${m.peer.cid}`)).toBe(5);
    await until(() => six.every((m) => m.events.filter((e) => e.type === 'peer:message').length === 5), 10_000, 'every message');

    // The seventh: GROUP_CALL_FULL, no call placed to it or by it.
    const seventh = await member(group);
    await expect(join(seventh)).rejects.toMatchObject({ code: 'GROUP_CALL_FULL' });
    expect(livePeerConnections()).toBe(30);
    for (const m of six) expect(m.call!.peers).toHaveLength(5);

    // One leaves: dropped by the other five at once (left); the seventh now gets in.
    const leaver = six[5]!;
    const leftAt = Date.now();
    await leaver.call!.leave();
    const five = six.slice(0, 5);
    await until(() => five.every((m) => !m.call!.peers.some((p) => p.cid === leaver.peer.cid)), 2_000, 'the leaver dropped');
    const leaveMs = Date.now() - leftAt;
    for (const m of five) expect(m.events.find((e) => e.type === 'peer:left' && e.peer.cid === leaver.peer.cid)).toMatchObject({ reason: 'left' });
    await join(seventh);
    const six2 = [...five, seventh];
    await until(() => six2.every((m) => JSON.stringify(connectedTo(m)) === JSON.stringify(cidsBut(six2, m))), 30_000, 'the seventh in the mesh');

    // A member whose realtime connection closes (no leave()): dropped by the others.
    const closing = first;
    const closedAt = Date.now();
    await closing.peer.close();
    const rest = six2.filter((m) => m !== closing);
    await until(() => rest.every((m) => !m.call!.peers.some((p) => p.cid === closing.peer.cid)), 5_000, 'the closed member dropped');
    const closeMs = Date.now() - closedAt;
    expect(closing.events.at(-1)).toEqual({ type: 'closed' });
    console.info(
      `[group-node] six Node members: full mesh (15 calls) in ${meshMs} ms; seventh refused GROUP_CALL_FULL; leave → dropped by the other five in ${leaveMs} ms; closed connection → dropped in ${closeMs} ms`,
    );
  }, 90_000);
});
