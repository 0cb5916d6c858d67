import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, SwitchboardError } from '@switchboard/protocol';
import { Switchboard } from '../src/node/index.js';
import { isNotice, Recorder } from './recorder.js';
import { startServer, until, type TestServer } from './server.js';

let server: TestServer;
const clients: Switchboard[] = [];

async function connect(user_id: string): Promise<{ sb: Switchboard; events: Recorder; cid: string }> {
  const sb = new Switchboard({ url: server.url, token: await server.token(user_id), reconnect: { baseDelayMs: 10, maxDelayMs: 50 } });
  clients.push(sb);
  const events = new Recorder();
  const { cid } = await sb.connectRealtime(events.cb);
  return { sb, events, cid };
}

async function rejection(promise: Promise<unknown>): Promise<SwitchboardError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(SwitchboardError);
  return error as SwitchboardError;
}

beforeAll(async () => {
  server = await startServer();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((sb) => sb.closeRealtime()));
  await until(() => server.server.connectionCount() === 0, 5_000, 'all connections closed');
});
afterAll(() => server.close());

describe('joinRealtime', () => {
  it("joins, switches and leaves with Skapi's strings; notices reach each member exactly once", async () => {
    const a = await connect('amy');
    const b = await connect('ben');
    expect(await a.sb.joinRealtime({ group: 'lobby' })).toEqual({ type: 'success', message: 'Joined realtime message group: "lobby".' });
    await a.events.waitFor(isNotice('USER_JOINED', a.cid)); // the joiner sees its own join
    await b.sb.joinRealtime({ group: 'lobby' });
    const joined = await a.events.waitFor(isNotice('USER_JOINED', b.cid));
    expect(joined).toEqual({
      type: 'notice',
      message: expect.stringContaining('ben'),
      sender: 'ben',
      sender_cid: b.cid,
      sender_rid: 'lobby',
      code: 'USER_JOINED',
    });
    await b.events.waitFor(isNotice('USER_JOINED', b.cid));

    // b switches group: a sees USER_LEFT; b sees its own join in the new group.
    await b.sb.joinRealtime({ group: 'kitchen' });
    await a.events.waitFor(isNotice('USER_LEFT', b.cid));
    await b.events.waitFor((e) => isNotice('USER_JOINED', b.cid)(e) && e.type === 'notice' && e.sender_rid === 'kitchen');

    expect(await b.sb.joinRealtime({ group: null })).toEqual({ type: 'success', message: 'Left realtime message group.' });
    // Leaving again sends nothing and still succeeds (Skapi).
    expect(await b.sb.joinRealtime({ group: '' })).toEqual({ type: 'success', message: 'Left realtime message group.' });

    // A sync point: a post from a round-trips after all the notices above were delivered to it.
    await a.sb.postRealtime('sync', 'lobby');
    await a.events.waitFor((e) => e.type === 'message' && e.message === 'sync');
    expect(a.events.count(isNotice('USER_JOINED', a.cid))).toBe(1);
    expect(a.events.count(isNotice('USER_JOINED', b.cid))).toBe(1);
    expect(a.events.count(isNotice('USER_LEFT', b.cid))).toBe(1);
    expect(b.events.count(isNotice('USER_JOINED', b.cid))).toBe(2);
    // The subject gets its own notices too: one USER_LEFT per group it left (lobby, kitchen).
    expect(
      b.events
        .of('notice')
        .filter((e) => e.code === 'USER_LEFT')
        .map((e) => e.sender_rid),
    ).toEqual(['lobby', 'kitchen']);
    expect(a.events.count(isNotice('USER_DISCONNECTED'))).toBe(0);
  });

  it('validates the group locally and requires a connection', async () => {
    const idle = new Switchboard({ url: server.url, token: await server.token('nobody') });
    expect(await rejection(idle.joinRealtime({ group: 'x' }))).toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'No realtime connection. Execute connectRealtime() before this method.',
    });
    const a = await connect('gus');
    expect((await rejection(a.sb.joinRealtime({ group: 42 as never }))).message).toBe('"group" must be a string | null.');
    expect((await rejection(a.sb.joinRealtime({ group: 'cid:abc' }))).code).toBe('INVALID_PARAMETER');
    expect((await rejection(a.sb.joinRealtime({ group: ' padded ' }))).code).toBe('INVALID_PARAMETER');
    expect((await rejection(a.sb.joinRealtime({ group: 'x'.repeat(65) }))).code).toBe('INVALID_PARAMETER');
    expect(await a.sb.joinRealtime({ group: 'Ünïcode группа 1' })).toMatchObject({ type: 'success' });
  });
});

describe('postRealtime', () => {
  it('delivers to the group (sender included), to one cid, and to every connection of a user', async () => {
    const a = await connect('hal');
    const b = await connect('ida');
    const b2 = await connect('ida'); // a second device of the same user
    await a.sb.joinRealtime({ group: 'room' });
    await b.sb.joinRealtime({ group: 'room' });

    const group = await a.sb.postRealtime({ text: 'hi all' }, 'room');
    expect(group).toEqual({ type: 'success', message: 'Message sent.', delivered: 2 });
    const seen = await b.events.waitFor((e) => e.type === 'message');
    expect(seen).toEqual({ type: 'message', message: { text: 'hi all' }, sender: 'hal', sender_cid: a.cid, sender_rid: 'room', code: null });
    await a.events.waitFor((e) => e.type === 'message' && e.sender_cid === a.cid);

    expect((await a.sb.postRealtime('to one', b2.cid)).delivered).toBe(1);
    const direct = await b2.events.waitFor((e) => e.type === 'private');
    expect(direct).toEqual({ type: 'private', message: 'to one', sender: 'hal', sender_cid: a.cid, sender_rid: null, code: null });

    expect((await a.sb.postRealtime('to user', 'ida')).delivered).toBe(2);
    await b.events.waitFor((e) => e.type === 'private' && e.message === 'to user');
    await b2.events.waitFor((e) => e.type === 'private' && e.message === 'to user');
    expect(b.events.count((e) => e.type === 'private' && e.message === 'to one')).toBe(0);
  });

  it('delivers falsy and other JSON values as they are', async () => {
    const a = await connect('jan');
    const b = await connect('kim');
    const values: unknown[] = [0, '', false, null, [], {}, -1.5, 'ü%zz', [0, null, ''], { nested: { deep: [false] } }];
    for (const value of values) expect((await a.sb.postRealtime(value, b.cid)).delivered).toBe(1);
    await until(() => b.events.of('private').length === values.length, 5_000, 'all values');
    expect(b.events.of('private').map((e) => e.message)).toEqual(values);
  });

  it("errors: Skapi's messages locally, registry codes from the server", async () => {
    const idle = new Switchboard({ url: server.url, token: await server.token('nobody') });
    expect(await rejection(idle.postRealtime('x', 'room'))).toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'No realtime connection. Execute connectRealtime() before this method.',
    });
    const a = await connect('leo');
    expect(await rejection(a.sb.postRealtime('x', ''))).toMatchObject({ code: 'INVALID_REQUEST', message: 'No recipient.' });
    expect(await rejection(a.sb.postRealtime('x', undefined as never))).toMatchObject({ code: 'INVALID_REQUEST', message: 'No recipient.' });
    expect((await rejection(a.sb.postRealtime(undefined, 'leo'))).code).toBe('INVALID_PARAMETER');
    expect(await rejection(a.sb.postRealtime(10n as never, 'leo'))).toMatchObject({ code: 'INVALID_REQUEST', message: 'Invalid data type.' });
    const big = 'x'.repeat(DEFAULT_LIMITS.maxFrameBytes);
    expect((await rejection(a.sb.postRealtime(big, 'leo'))).code).toBe('PAYLOAD_TOO_LARGE');
    expect(await rejection(a.sb.postRealtime('x', 'leo', { body: 'b' } as never))).toMatchObject({
      code: 'INVALID_PARAMETER',
      message: 'Key "title" is required.',
    });
    expect((await rejection(a.sb.postRealtime('x', 'leo', { title: 1, body: 'b' } as never))).message).toBe('"title" should be type: <string>.');
    expect(await rejection(a.sb.postRealtime('x', 'leo', { title: 't', body: 'b'.repeat(3100) }))).toMatchObject({
      code: 'INVALID_PARAMETER',
      message: 'Notification size exceeds 3kb.',
    });
    // From the server: nobody by that id, no such connection, a group we are not in.
    expect((await rejection(a.sb.postRealtime('x', 'no-such-user'))).code).toBe('RECIPIENT_NOT_FOUND');
    expect((await rejection(a.sb.postRealtime('x', 'cid:gone'))).code).toBe('RECIPIENT_NOT_FOUND');
    const b = await connect('mia');
    await b.sb.joinRealtime({ group: 'private-room' });
    expect(await rejection(a.sb.postRealtime('x', 'private-room'))).toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'User has not joined to the recipient group. Run joinRealtime({ group: "private-room" })',
    });
    // With a valid notification the post still goes through.
    expect((await a.sb.postRealtime('x', 'leo', { title: 't', body: 'b', config: { always: true } })).delivered).toBe(1);
  });
});

describe('listings', () => {
  it('getRealtimeUsers: one row per connection, defaults to the joined group, pages with fetchMore', async () => {
    const members = await Promise.all(['u1', 'u2', 'u3', 'u4', 'u5'].map((id) => connect(id)));
    for (const m of members) await m.sb.joinRealtime({ group: 'paging' });
    const [first] = members;
    const all = await first!.sb.getRealtimeUsers();
    expect(all.endOfList).toBe(true);
    expect(all.startKey).toBe('end');
    expect(all.list.map((row) => row.cid).sort()).toEqual(members.map((m) => m.cid).sort());
    expect(all.list.find((row) => row.cid === first!.cid)).toEqual({ user_id: 'u1', cid: first!.cid });

    const seen: string[] = [];
    let page = await first!.sb.getRealtimeUsers({ group: 'paging' }, { limit: 2 });
    const pages = [page];
    while (!page.endOfList) {
      page = await first!.sb.getRealtimeUsers({ group: 'paging' }, { limit: 2, fetchMore: true });
      pages.push(page);
    }
    for (const p of pages) seen.push(...p.list.map((row) => row.cid));
    expect(pages.map((p) => p.list.length)).toEqual([2, 2, 1]);
    expect(seen.sort()).toEqual(members.map((m) => m.cid).sort());
    expect(page.startKeyHistory).toHaveLength(3);
    expect(page.startKeyHistory.at(-1)).toBe('end');
    // Past the end: an empty page, no request needed.
    expect(await first!.sb.getRealtimeUsers({ group: 'paging' }, { limit: 2, fetchMore: true })).toMatchObject({
      list: [],
      startKey: 'end',
      endOfList: true,
    });
    // Without fetchMore the query starts over.
    expect((await first!.sb.getRealtimeUsers({ group: 'paging' }, { limit: 2 })).list).toHaveLength(2);
    expect((await first!.sb.getRealtimeUsers({ group: 'paging', user_id: 'u3' })).list).toEqual([{ user_id: 'u3', cid: members[2]!.cid }]);
  });

  it("getRealtimeUsers: Skapi's validation", async () => {
    const a = await connect('val');
    expect(await rejection(a.sb.getRealtimeUsers())).toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'No group has been joined. Otherwise "group" is required.',
    });
    // Skapi's code for this one is INVALID_REQUEST (its other validation errors are INVALID_PARAMETER).
    for (const listing of [a.sb.getRealtimeUsers({ group: 'g' }, { limit: 1001 }), a.sb.getRealtimeGroups(null, { limit: 1001 })]) {
      expect(await rejection(listing)).toMatchObject({ code: 'INVALID_REQUEST', message: 'Fetch limit should be below 1000.' });
    }
    expect((await rejection(a.sb.getRealtimeUsers({ group: 'g', user_id: '' }))).message).toBe('User ID in "user_id" is empty.');
    expect((await a.sb.getRealtimeUsers({ group: 'empty-group' })).list).toEqual([]);
  });

  it("getRealtimeUsers / getRealtimeGroups without a realtime connection: over HTTP with the token, as Skapi's", async () => {
    const a = await connect('http-a');
    await a.sb.joinRealtime({ group: 'over-http' });
    // Never connected: the token alone.
    const offline = new Switchboard({ url: server.url, token: await server.token('http-reader') });
    clients.push(offline);
    expect(await offline.getRealtimeUsers({ group: 'over-http' })).toEqual({
      list: [{ user_id: 'http-a', cid: a.cid }],
      startKey: 'end',
      endOfList: true,
      startKeyHistory: ['end'],
    });
    expect((await offline.getRealtimeGroups({ searchFor: 'group', value: 'over-http' })).list).toEqual([{ group: 'over-http', number_of_users: 1 }]);
    // Skapi's rules still hold: no group joined means "group" is required; the fetch limit.
    expect(await rejection(offline.getRealtimeUsers())).toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'No group has been joined. Otherwise "group" is required.',
    });
    expect(await rejection(offline.getRealtimeGroups(null, { limit: 5000 }))).toMatchObject({ code: 'INVALID_REQUEST' });
    // A server refusal arrives as the server's code: a token it does not take.
    const stranger = new Switchboard({ url: server.url, token: server.expiredToken('late') });
    expect(await rejection(stranger.getRealtimeUsers({ group: 'over-http' }))).toMatchObject({ code: 'TOKEN_EXPIRED' });
    // After closeRealtime, the same instance lists over HTTP again.
    await a.sb.closeRealtime();
    expect((await a.sb.getRealtimeGroups({ searchFor: 'group', value: 'over-http' })).list).toEqual([]);
    expect(server.server.connectionCount()).toBe(0);
  });

  it("getRealtimeGroups: all groups by default, Skapi's conditions, paging", async () => {
    const a = await connect('g1');
    const b = await connect('g2');
    const c = await connect('g3');
    await a.sb.joinRealtime({ group: 'alpha' });
    await b.sb.joinRealtime({ group: 'alpha' });
    await c.sb.joinRealtime({ group: 'beta' });
    const all = await a.sb.getRealtimeGroups();
    expect(all.list).toEqual(
      expect.arrayContaining([
        { group: 'alpha', number_of_users: 2 },
        { group: 'beta', number_of_users: 1 },
      ]),
    );
    expect(all.endOfList).toBe(true);
    expect((await a.sb.getRealtimeGroups({ searchFor: 'group', value: 'alp', condition: '>=' })).list).toEqual([{ group: 'alpha', number_of_users: 2 }]);
    expect((await a.sb.getRealtimeGroups({ searchFor: 'number_of_users', value: 2 })).list).toEqual([{ group: 'alpha', number_of_users: 2 }]);
    const first = await a.sb.getRealtimeGroups(null, { limit: 1 });
    expect(first.list).toHaveLength(1);
    expect(first.endOfList).toBe(false);
    const second = await a.sb.getRealtimeGroups(null, { limit: 1, fetchMore: true });
    expect(second.list).toHaveLength(1);
    expect(second.list[0]!.group).not.toBe(first.list[0]!.group);
    expect(await rejection(a.sb.getRealtimeGroups({ searchFor: 'number_of_users', value: 'two' as never }))).toMatchObject({
      code: 'INVALID_PARAMETER',
      message: '"value" must be a number.',
    });
    expect((await rejection(a.sb.getRealtimeGroups({ searchFor: 'group', value: 'a', range: 3 }))).message).toBe('"range" must be a string.');
  });
});
