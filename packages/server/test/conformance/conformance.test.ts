/**
 * Conformance: the golden fixtures of packages/protocol/test/fixtures replayed against a running
 * server over real WebSockets. Client fixtures are sent as they are (a placeholder `to` cid is
 * replaced by the real cid of the connection the scenario names); the server's replies must equal
 * the golden server fixtures modulo what the server generates (wire.ts, normalise()); every ack is
 * checked against the result schema of its request, every frame against the full codec; every
 * invalid client fixture must get the error code, id and field path it records. A server whose
 * behaviour drifts from the fixtures fails here.
 */
import { describe, expect, it } from 'vitest';
import { LAST_SEQ_PARAM, RESUME_PARAM, parseHttpBody, resultSchemas, type HttpBodyOf } from '@switchboard/protocol';
import { getJson, startServer, TestClient, useCleanup, type TestServer } from '../helpers.js';
import { Suite, type Wire } from './wire.js';

type HttpKind = Parameters<typeof parseHttpBody>[0];

useCleanup();

const suite = new Suite();
const ICE = {
  stun: ['stun:turn.example.com:3478'],
  turn: ['turn:turn.example.com:3478?transport=udp', 'turn:turn.example.com:3478?transport=tcp'],
  turnSecrets: ['conformance-turn-secret'],
  // Short-lived credentials, so the server pushes fresh ones (the unsolicited `ice` frame) within the test.
  turnTtlSeconds: 2,
};

/** Server fixtures no running server can be made to send, and why. */
const NOT_REPLAYED: Record<string, string> = {
  'server-ack-list-users': 'a page of 2 rows that is not the last under limit 50, with a cid for its cursor: no server state yields it',
  'server-error-unknown-code': 'a code from a newer server: a decoding case of the client',
  'server-welcome-not-resumed': 'gap_expired needs a missed frame aged out of the replay buffer',
};

async function open(t: TestServer, name: string, user: string, display?: string): Promise<Wire> {
  return (await suite.wire(name, await t.connect(user, display === undefined ? {} : { name: display }))).wire;
}

/** `wire` joins `group` with a frame of its own (no fixture); everyone in `members` hears it. */
async function joinAs(wire: Wire, user: string, group: string, members: Wire[] = []): Promise<void> {
  wire.sendRaw({ type: 'join', id: 900, group });
  const notice = { type: 'notice', code: 'USER_JOINED', sender: user, sender_cid: wire.cid, sender_rid: group };
  await wire.expectLike(notice);
  await wire.expectLike({ type: 'ack', id: 900, result: { group } });
  for (const member of members) await member.expectLike(notice);
}

/** The signal `fixture` sent by `from` reaches `to` unchanged, from `from`'s connection. */
async function relayed(fixture: string, from: Wire, to: Wire, sender: string, name: string | null): Promise<void> {
  const { call, signal } = suite.valid(fixture, 'client').frame;
  await to.expectLike({ type: 'rtc', call, sender, sender_cid: from.cid, sender_name: name, signal });
}

describe('conformance: golden fixtures against a running server', () => {
  it('a realtime session: welcome, groups, posts, listings, ICE, pings', async () => {
    const t = await startServer({ nodeId: 'node-1', ice: ICE });
    const a = await open(t, 'alice', 'alice', 'Alice');
    a.send('client-join');
    await a.expect('server-notice-joined');
    await a.expect('server-ack-join');

    const b = await open(t, 'bob', 'bob');
    b.send('client-join-extra-fields'); // unknown fields are ignored
    await b.expectLike({ type: 'notice', code: 'USER_JOINED', sender: 'bob', sender_cid: b.cid });
    await b.expectLike({ type: 'ack', id: 4, result: { group: 'lobby' } });
    await a.expectLike({ type: 'notice', code: 'USER_JOINED', sender: 'bob' });
    const c = await open(t, 'carol', 'carol');
    await joinAs(c, 'carol', 'lobby', [a, b]);
    const all = [a, b, c];

    a.send('client-post-group');
    const sent = suite.valid('client-post-group', 'client').frame['message'];
    for (const w of all) await w.expectLike({ type: 'message', message: sent, sender: 'alice', sender_cid: a.cid, sender_rid: 'lobby' });
    await a.expect('server-ack-post');
    a.send('client-post-zero');
    for (const w of all) await w.expect('server-message-falsy');
    await a.expectLike({ type: 'ack', id: 6, result: { delivered: 3 } });
    a.send('client-post-empty-string');
    for (const w of all) await w.expectLike({ type: 'message', message: '' });
    await a.expect('server-ack-seq');
    for (const [fixture, id, message] of [
      ['client-post-false', 8, false],
      ['client-post-null', 9, null],
    ] as const) {
      a.send(fixture);
      for (const w of all) await w.expectLike({ type: 'message', message });
      await a.expectLike({ type: 'ack', id, result: { delivered: 3 } });
    }
    a.sendRaw({ type: 'post', id: 30, to: 'lobby', message: { text: 'hello' } });
    await a.expectLike({ type: 'message', message: { text: 'hello' } });
    await b.expect('server-message');
    await c.expect('server-message-seq');
    await a.expectLike({ type: 'ack', id: 30 });
    a.send('client-post-cid', b);
    await b.expect('server-private');
    await a.expectLike({ type: 'ack', id: 10, result: { delivered: 1 } });
    a.send('client-post-user'); // nobody has that user_id, and no group has that name
    await a.expectLike({ type: 'error', id: 11, code: 'RECIPIENT_NOT_FOUND' });
    a.send('client-post-notification');
    await b.expectLike({ type: 'private', message: { text: 'ring' }, sender: 'alice', sender_rid: null });
    await a.expectLike({ type: 'ack', id: 12, result: { delivered: 1 } });

    a.send('client-list-users'); // its startKey is no cursor this server handed out
    await a.expectLike({ type: 'error', id: 13, code: 'INVALID_PARAMETER', message: 'Invalid "startKey": pass the startKey of a previous page.' });
    a.send('client-list-users-by-user');
    await a.expectLike({ type: 'ack', id: 14, result: { list: [{ user_id: 'alice', cid: a.cid }], startKey: 'end', endOfList: true } });
    const d = await open(t, 'dave', 'dave');
    const e = await open(t, 'erin', 'erin');
    await joinAs(d, 'dave', 'Hello world');
    await joinAs(e, 'erin', 'Hello world', [d]);
    a.send('client-list-groups');
    await a.expect('server-ack-list-groups');
    a.send('client-list-groups-range');
    const range = await a.expectLike({ type: 'ack', id: 16 });
    expect(range['result'].list).toEqual(
      expect.arrayContaining([
        { group: 'Hello world', number_of_users: 2 },
        { group: 'lobby', number_of_users: 3 },
      ]),
    );

    a.send('client-ice');
    await a.expect('server-ack-ice');
    a.send('client-ping');
    await a.expect('server-pong');
    a.send('client-ping-bare');
    await a.expect('server-pong-bare');
    await a.expect('server-ice', await a.nextIce());

    a.send('client-join-leave');
    await a.expect('server-notice-left');
    await a.expect('server-ack-leave');
    for (const w of [b, c]) await w.expect('server-notice-left');
    a.send('client-join-unicode'); // valid on the wire; brackets are not in the group-name rules (§5)
    await a.expectLike({ type: 'error', id: 2, code: 'INVALID_PARAMETER' });
    a.send('client-join');
    for (const w of all) await w.expect('server-notice-joined');
    await a.expect('server-ack-join');

    // A post to a user_id nobody holds: the error the fixture records.
    await b.client.close();
    for (const w of [a, c]) await w.expectLike({ type: 'notice', code: 'USER_DISCONNECTED', sender: 'bob' });
    a.sendRaw({ type: 'post', id: 5, to: 'bob', message: 'anyone?' });
    await a.expect('server-error');
    for (const w of [a, c, d, e]) await w.expectQuiet();
    await a.client.close();
    await c.expect('server-notice-disconnected');
    for (const w of [c, d, e]) await w.expectQuiet();
  });

  it('a call: invite, reject, busy, cancel, accept, descriptions, candidates, hang-ups, peer gone', async () => {
    const t = await startServer({ nodeId: 'node-1' });
    const a = await open(t, 'alice', 'alice', 'Alice');
    const b = await open(t, 'bob', 'bob');
    await joinAs(a, 'alice', 'lobby');
    await joinAs(b, 'bob', 'lobby', [a]);
    const toB = (fixture: string) => relayed(fixture, a, b, 'alice', 'Alice');
    const toA = (fixture: string) => relayed(fixture, b, a, 'bob', null);

    a.send('client-rtc-invite', b);
    await toB('client-rtc-invite');
    await a.expect('server-ack-rtc');
    a.sendRaw({ type: 'rtc', to: b.cid, call: 'c_7f3a9e-01', signal: { kind: 'hangup', reason: 'cancelled' } });
    await b.expectLike({ type: 'rtc', call: 'c_7f3a9e-01', signal: { kind: 'hangup', reason: 'cancelled' } });

    for (const [reject, id] of [
      ['client-rtc-reject', 19],
      ['client-rtc-reject-busy', 20],
    ] as const) {
      a.send('client-rtc-invite-bare', b);
      await toB('client-rtc-invite-bare');
      b.send(reject, a);
      await toA(reject);
      await b.expectLike({ type: 'ack', id, result: { delivered: 1 } });
    }
    a.send('client-rtc-invite-bare', b);
    await toB('client-rtc-invite-bare');
    a.send('client-rtc-hangup-bare', b);
    await toB('client-rtc-hangup-bare');
    a.send('client-rtc-invite-bare', b);
    await toB('client-rtc-invite-bare');
    a.send('client-rtc-hangup-cancelled', b);
    await toB('client-rtc-hangup-cancelled');
    await a.expectLike({ type: 'ack', id: 23, result: { delivered: 1 } });

    a.sendRaw({ type: 'rtc', to: b.cid, call: 'c1', signal: { kind: 'invite', media: { audio: true, video: false } } });
    await b.expect('server-rtc-invite');
    b.send('client-rtc-accept', a);
    await toA('client-rtc-accept');
    await b.expectLike({ type: 'ack', id: 18, result: { delivered: 1 } });
    a.send('client-rtc-description-offer', b);
    await toB('client-rtc-description-offer');
    await a.expectLike({ type: 'ack', id: 21, result: { delivered: 1 } });
    const offer = suite.valid('client-rtc-description-offer', 'client').frame['signal'] as { description: { sdp: string } };
    b.sendRaw({ type: 'rtc', to: a.cid, call: 'c1', signal: { kind: 'description', description: { type: 'answer', sdp: offer.description.sdp } } });
    await a.expect('server-rtc-description');
    b.send('client-rtc-candidate', a);
    await a.expect('server-rtc-candidate');
    b.send('client-rtc-candidate-end', a);
    await a.expect('server-rtc-seq');
    for (const fixture of ['client-rtc-description-renewal', 'client-rtc-description-rollback', 'client-rtc-candidate-nulls']) {
      a.send(fixture, b);
      await toB(fixture);
    }
    await a.expectLike({ type: 'ack', id: 22, result: { delivered: 1 } });
    b.sendRaw({ type: 'rtc', to: a.cid, call: 'c1', signal: { kind: 'candidate', candidate: null, pc: 2 } });
    await a.expect('server-rtc-candidate-renewal');
    a.send('client-rtc-hangup', b);
    await toB('client-rtc-hangup');
    await a.expectLike({ type: 'ack', id: 22, result: { delivered: 1 } });

    // A call that is up when the callee's connection goes: the server hangs up for it.
    a.send('client-rtc-invite-bare', b);
    await toB('client-rtc-invite-bare');
    b.send('client-rtc-accept', a);
    await toA('client-rtc-accept');
    await b.expectLike({ type: 'ack', id: 18 });
    await b.expectQuiet();
    await b.client.close();
    await a.expectLike({ type: 'notice', code: 'USER_DISCONNECTED', sender: 'bob' });
    await a.expect('server-rtc-hangup-peer-gone');

    // The caller gives up ringing (its ring timeout) and says so.
    const bob = await open(t, 'bob (named)', 'bob', 'Bob');
    await joinAs(bob, 'bob', 'lobby', [a]);
    bob.sendRaw({ type: 'rtc', to: a.cid, call: 'c1', signal: { kind: 'invite' } });
    await a.expectLike({ type: 'rtc', call: 'c1', sender_name: 'Bob', signal: { kind: 'invite' } });
    bob.sendRaw({ type: 'rtc', to: a.cid, call: 'c1', signal: { kind: 'hangup', reason: 'timeout' } });
    await a.expect('server-rtc-hangup-timeout');
    for (const w of [a, bob]) await w.expectQuiet();
  });

  it('every invalid client frame gets the error code, request id and field path its fixture records', async () => {
    const t = await startServer();
    const invalid = [...suite.invalidFixtures].filter(([, f]) => f.side === 'client');
    expect(invalid.length).toBeGreaterThan(20);
    let wire: Wire | null = null;
    for (const [index, [name, fixture]] of invalid.entries()) {
      // A fresh connection every 15 frames: each one is a violation, and 20 close the connection (4500).
      if (index % 15 === 0) {
        await wire?.client.close();
        wire = await open(t, `mallory ${index / 15}`, 'mallory');
      }
      wire!.sendRaw(fixture.frame);
      const reply = await wire!.next();
      expect(reply, name).toMatchObject({ type: 'error', code: fixture.code, ...(fixture.id === undefined ? {} : { id: fixture.id }) });
      if (fixture.path !== undefined) expect(String(reply['message']).startsWith(`"${fixture.path}"`), `${name}: ${reply['message']}`).toBe(true);
      if (name === 'client-not-json') await wire!.expect('server-error-uncorrelated', reply);
      suite.sent.add(name);
    }
    await wire!.expectQuiet();
  });

  it("welcomes: with TURN, a guest's, a resumed one", async () => {
    // The plain welcome fixtures carry no resume token: a server with resume off.
    const turn = await startServer({ nodeId: 'node-1', ice: ICE, resume: { windowMs: 0 } });
    const alice = await suite.wire('alice', await turn.connect('alice', { name: 'Alice' }));
    await alice.wire.expect('server-welcome', alice.welcome);
    const guests = await startServer({ nodeId: 'n', resume: { windowMs: 0 } });
    const { body } = await getJson(`${guests.url}/v1/guest`, { method: 'POST' });
    const guest = await suite.wire('guest', await TestClient.open(guests.wsUrl, { token: body.token }));
    await guest.wire.expect('server-welcome-guest', guest.welcome);

    const t = await startServer({ nodeId: 'node-2' });
    const token = await t.token('alice', { name: 'Alice' });
    const first = await suite.wire('alice', await TestClient.open(t.wsUrl, { token }));
    first.wire.client.terminate();
    await first.wire.client.closed;
    const query = `${RESUME_PARAM}=${encodeURIComponent(first.welcome['resume'] as string)}&${LAST_SEQ_PARAM}=0`;
    const again = await suite.wire('alice again', await TestClient.open(t.wsUrl, { token, query }));
    expect(again.welcome['cid']).toBe(first.wire.cid);
    await again.wire.expect('server-welcome-resumed', again.welcome);
  });

  it("the HTTP answers match the protocol's body schemas", async () => {
    const t = await startServer({ nodeId: 'node-1', ice: ICE });
    const auth = { headers: { authorization: `Bearer ${await t.token('alice', { name: 'Alice' })}` } };
    const answers: Array<[HttpKind, number, Promise<{ status: number; body: unknown }>]> = [
      ['guestResponse', 200, getJson(`${t.url}/v1/guest`, { method: 'POST', body: JSON.stringify({ name: ' Ada ' }) })],
      ['sessionResponse', 200, getJson(`${t.url}/v1/session`, auth)],
      ['iceResponse', 200, getJson(`${t.url}/v1/ice`, auth)],
      ['infoResponse', 200, getJson(`${t.url}/v1/info`)],
      ['healthResponse', 200, getJson(`${t.url}/healthz`)],
      ['errorBody', 400, getJson(`${t.url}/v1/guest`, { method: 'POST', body: JSON.stringify({ name: 5 }) })],
      ['errorBody', 401, getJson(`${t.url}/v1/session`)],
    ];
    for (const [kind, status, answer] of answers) {
      const { status: got, body } = await answer;
      expect(got, kind).toBe(status);
      expect(parseHttpBody(kind, body), kind).toEqual({ ok: true, value: body });
    }
    const guest = (await answers[0]![2]).body as HttpBodyOf<'guestResponse'>;
    expect(guest.user.name).toBe('Ada');
    expect((await answers[5]![2]).body).toEqual({ code: 'INVALID_PARAMETER', message: '"name" must be a string.' });
  });

  it('Web Push: the VAPID key, subscribe, unsubscribe', async () => {
    // The pair whose public half the fixture records.
    const vapid = { vapidPublicKey: (suite.valid('server-ack-push-key', 'server').frame['result'] as { VAPIDPublicKey: string }).VAPIDPublicKey };
    const t = await startServer({ nodeId: 'node-1', push: { ...vapid, vapidPrivateKey: 'LVegpiyuS5rI1zF74S_5QjeL_ZyblYQ9UMTb4G-3Lg0' } });
    const a = await open(t, 'alice', 'alice');
    a.send('client-push-key');
    await a.expect('server-ack-push-key');
    a.send('client-push-subscribe');
    await a.expect('server-ack-push-subscribe');
    a.send('client-push-unsubscribe');
    await a.expect('server-ack-push-unsubscribe');
    await a.expectQuiet();
  });

  it('replayed every client fixture and every server fixture a server can send, and acked every request type', () => {
    const names = (side: 'client' | 'server', fixtures: Map<string, { side: string }>) =>
      [...fixtures].filter(([, f]) => f.side === side).map(([name]) => name);
    const clientFixtures = [...names('client', suite.validFixtures), ...names('client', suite.invalidFixtures)];
    expect(clientFixtures.filter((name) => !suite.sent.has(name))).toEqual([]);
    const serverFixtures = names('server', suite.validFixtures);
    expect(serverFixtures.filter((name) => !suite.matched.has(name)).sort()).toEqual(Object.keys(NOT_REPLAYED).sort());
    expect([...suite.ackedTypes].sort()).toEqual(Object.keys(resultSchemas).sort());
    console.info(
      `[conformance] ${suite.sent.size} client fixtures replayed (${names('client', suite.invalidFixtures).length} invalid), ` +
        `${suite.matched.size} of ${serverFixtures.length} server fixtures matched`,
    );
  });
});
