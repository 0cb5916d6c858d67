import { describe, expect, it } from 'vitest';
import { join, startServer, useCleanup } from './helpers.js';

useCleanup();

const joined = (u: string) => `"${u}" has joined the message group.`;
const left = (u: string) => `"${u}" has left the message group.`;
const gone = (u: string) => `"${u}" has been disconnected.`;

describe('welcome', () => {
  it('sends cid, user, limits, ice and node on open', async () => {
    const t = await startServer({ heartbeatMs: 5000 });
    const a = await t.connect('alice', { name: 'Alice' });
    const welcome = await a.welcome;
    expect(welcome.cid).toMatch(/^cid:[A-Za-z0-9_-]{8,}$/);
    expect(welcome.user).toEqual({ user_id: 'alice', name: 'Alice' });
    expect(welcome.limits).toMatchObject({ maxFrameBytes: 128 * 1024, heartbeatMs: 5000, maxNotificationBytes: 3072 });
    expect(Object.keys(welcome.limits).sort()).toEqual([
      'heartbeatMs',
      'maxConnectionsPerUser',
      'maxFrameBytes',
      'maxNotificationBytes',
      'maxViolations',
      'messageBurst',
      'messagesPerSecond',
      'violationWindowMs',
    ]);
    expect(welcome.iceServers).toEqual([]);
    expect(welcome.iceExpiresAt).toBeNull();
    expect(welcome.node).toBe(t.server.node);
    expect(a.frames[0]?.type).toBe('welcome');
    expect(a.ws.protocol).toBe('switchboard.v1');
  });

  it('answers an app ping with pong carrying the same ts', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    a.send({ type: 'ping', ts: 42 });
    expect(await a.waitFor('pong')).toEqual({ type: 'pong', ts: 42 });
    a.send({ type: 'ping' });
    expect(await a.waitFor('pong')).toEqual({ type: 'pong' });
  });
});

describe('join', () => {
  it('acks with the group after sending USER_JOINED to every member, subject included', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    const aCid = (await a.welcome).cid;
    const bCid = (await b.welcome).cid;

    const ackA = await join(a, 'room');
    expect(ackA.result).toEqual({ group: 'room' });
    // The notice to the joiner precedes its ack.
    const aOwn = a.frames.findIndex((f) => f.type === 'notice' && f.sender_cid === aCid);
    expect(aOwn).toBeGreaterThan(-1);
    expect(aOwn).toBeLessThan(a.frames.indexOf(ackA));
    expect(a.frames[aOwn]).toEqual({
      type: 'notice',
      code: 'USER_JOINED',
      message: joined('alice'),
      sender: 'alice',
      sender_cid: aCid,
      sender_rid: 'room',
    });

    await join(b, 'room');
    const seenByA = await a.waitFor((f) => f.type === 'notice' && f.sender_cid === bCid);
    expect(seenByA).toMatchObject({ code: 'USER_JOINED', message: joined('bob'), sender: 'bob', sender_rid: 'room' });
    await a.sync();
    await b.sync();
    // Exactly once per connection.
    expect(a.all((f) => f.type === 'notice' && f.code === 'USER_JOINED' && f.sender_cid === bCid)).toHaveLength(1);
    expect(b.all((f) => f.type === 'notice' && f.code === 'USER_JOINED' && f.sender_cid === bCid)).toHaveLength(1);
    // b joined after a: b does not learn about a's earlier join.
    expect(b.all((f) => f.type === 'notice' && f.sender_cid === aCid)).toHaveLength(0);
  });

  it('switching groups sends USER_LEFT to the old group (and the subject) and USER_JOINED to the new one', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    const c = await t.connect('carol');
    const aCid = (await a.welcome).cid;
    await join(a, 'one');
    await join(b, 'one');
    await join(c, 'two');
    await join(a, 'two');
    const leftNotice = await b.waitFor((f) => f.type === 'notice' && f.code === 'USER_LEFT');
    expect(leftNotice).toEqual({
      type: 'notice',
      code: 'USER_LEFT',
      message: left('alice'),
      sender: 'alice',
      sender_cid: aCid,
      sender_rid: 'one',
    });
    await a.waitFor((f) => f.type === 'notice' && f.code === 'USER_LEFT' && f.sender_rid === 'one');
    await c.waitFor((f) => f.type === 'notice' && f.code === 'USER_JOINED' && f.sender_cid === aCid && f.sender_rid === 'two');
    for (const client of [a, b, c]) await client.sync();
    expect(a.all((f) => f.code === 'USER_LEFT')).toHaveLength(1);
    expect(b.all((f) => f.code === 'USER_LEFT')).toHaveLength(1);
    expect(c.all((f) => f.code === 'USER_LEFT')).toHaveLength(0);
    expect(b.all((f) => f.code === 'USER_JOINED' && f.sender_rid === 'two')).toHaveLength(0);
  });

  it('null and empty string leave; leaving twice is a no-op', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    await join(a, 'room');
    await join(b, 'room');
    expect((await join(a, null)).result).toEqual({ group: null });
    await b.waitFor((f) => f.code === 'USER_LEFT' && f.sender === 'alice');
    await join(a, 'room');
    expect((await join(a, '')).result).toEqual({ group: null });
    expect((await join(a, null)).result).toEqual({ group: null });
    await b.sync();
    expect(b.all((f) => f.code === 'USER_LEFT' && f.sender === 'alice')).toHaveLength(2);
  });

  it('re-joining the current group changes nothing', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    await join(a, 'room');
    await join(a, 'room');
    await a.sync();
    expect(a.all('notice')).toHaveLength(1);
  });

  it('USER_DISCONNECTED goes to the group when a member disconnects', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    const bCid = (await b.welcome).cid;
    await join(a, 'room');
    await join(b, 'room');
    await b.close();
    const notice = await a.waitFor((f) => f.code === 'USER_DISCONNECTED');
    expect(notice).toEqual({
      type: 'notice',
      code: 'USER_DISCONNECTED',
      message: gone('bob'),
      sender: 'bob',
      sender_cid: bCid,
      sender_rid: 'room',
    });
    await a.sync();
    expect(a.all((f) => f.type === 'notice' && f.sender === 'bob' && f.code !== 'USER_JOINED')).toHaveLength(1);
  });

  it('two connections of one user each produce their own notices', async () => {
    const t = await startServer();
    const watcher = await t.connect('watcher');
    await join(watcher, 'room');
    const a1 = await t.connect('alice');
    const a2 = await t.connect('alice');
    await join(a1, 'room');
    await join(a2, 'room');
    await watcher.sync();
    expect(watcher.all((f) => f.code === 'USER_JOINED' && f.sender === 'alice')).toHaveLength(2);
  });

  it('rejects invalid group names with INVALID_PARAMETER and the rule', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    for (const group of ['cid:abc', ' padded', 'x'.repeat(65), 'bad/slash']) {
      const reply = await a.request({ type: 'join', group });
      expect(reply).toMatchObject({ type: 'error', code: 'INVALID_PARAMETER' });
      expect(reply.id).toBeTypeOf('number');
    }
    const reply = await a.request({ type: 'join', group: 'cid:abc' });
    expect(reply.message).toBe('Group name must not start with "cid:" (reserved for connection ids).');
    expect((await join(a, 'Ünïcode 组 ok')).result).toEqual({ group: 'Ünïcode 组 ok' });
  });
});
