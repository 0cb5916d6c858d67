import { describe, expect, it } from 'vitest';
import { join, startServer, useCleanup } from './helpers.js';

useCleanup();

describe('post', () => {
  it('to the joined group broadcasts `message` to every member, sender included', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    const outsider = await t.connect('carol');
    const aCid = (await a.welcome).cid;
    await join(a, 'room');
    await join(b, 'room');
    await join(outsider, 'elsewhere');
    const reply = await a.request({ type: 'post', to: 'room', message: { hello: 'world' } });
    expect(reply).toMatchObject({ type: 'ack', result: { delivered: 2 } });
    const expected = { type: 'message', message: { hello: 'world' }, sender: 'alice', sender_cid: aCid, sender_rid: 'room' };
    expect(await a.waitFor('message')).toEqual(expected);
    expect(await b.waitFor('message')).toEqual(expected);
    await outsider.sync();
    expect(outsider.all('message')).toHaveLength(0);
  });

  it('delivers any JSON value, falsy ones included', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    await join(a, 'room');
    for (const value of [0, '', false, null, [], {}, 'text', 3.5]) {
      expect((await a.request({ type: 'post', to: 'room', message: value })).result).toEqual({ delivered: 1 });
      expect((await a.waitFor('message')).message).toEqual(value);
    }
    // `message` missing entirely is invalid (JSON cannot carry undefined).
    expect(await a.request({ type: 'post', to: 'room' })).toMatchObject({ type: 'error', code: 'INVALID_PARAMETER' });
  });

  it('to cid:… reaches that one connection as `private`', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    const b1 = await t.connect('bob');
    const b2 = await t.connect('bob');
    const aCid = (await a.welcome).cid;
    const b1Cid = (await b1.welcome).cid;
    const reply = await a.request({ type: 'post', to: b1Cid, message: 'psst' });
    expect(reply.result).toEqual({ delivered: 1 });
    expect(await b1.waitFor('private')).toEqual({
      type: 'private',
      message: 'psst',
      sender: 'alice',
      sender_cid: aCid,
      sender_rid: null,
    });
    await b2.sync();
    expect(b2.all('private')).toHaveLength(0);
  });

  it("to a user_id reaches all of that user's connections", async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    const b1 = await t.connect('bob');
    const b2 = await t.connect('bob');
    expect((await a.request({ type: 'post', to: 'bob', message: 1 })).result).toEqual({ delivered: 2 });
    expect((await b1.waitFor('private')).message).toBe(1);
    expect((await b2.waitFor('private')).message).toBe(1);
    await a.sync();
    expect(a.all('private')).toHaveLength(0);
  });

  it('RECIPIENT_NOT_FOUND for a gone cid or a user without connections', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    const bCid = (await b.welcome).cid;
    await join(a, 'room');
    await join(b, 'room');
    await b.close();
    // The server forgot b once its USER_DISCONNECTED notice went out.
    await a.waitFor((f) => f.code === 'USER_DISCONNECTED');
    expect(await a.request({ type: 'post', to: bCid, message: 'x' })).toMatchObject({
      type: 'error',
      code: 'RECIPIENT_NOT_FOUND',
      message: `No open connection "${bCid}".`,
    });
    expect(await a.request({ type: 'post', to: 'bob', message: 'x' })).toMatchObject({ type: 'error', code: 'RECIPIENT_NOT_FOUND' });
    expect(await a.request({ type: 'post', to: 'nobody', message: 'x' })).toMatchObject({
      type: 'error',
      code: 'RECIPIENT_NOT_FOUND',
      message: 'User "nobody" has no open connection.',
    });
  });

  it("INVALID_REQUEST with Skapi's message when posting to a group not joined", async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    await join(b, 'lobby');
    const reply = await a.request({ type: 'post', to: 'lobby', message: 'hi' });
    expect(reply).toMatchObject({
      type: 'error',
      code: 'INVALID_REQUEST',
      message: 'User has not joined to the recipient group. Run joinRealtime({ group: "lobby" })',
    });
    await join(a, 'other');
    expect((await a.request({ type: 'post', to: 'lobby', message: 'hi' })).code).toBe('INVALID_REQUEST');
  });

  it('validates the notification and its 3 KB limit; it is not delivered', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    await join(a, 'room');
    const ok = await a.request({ type: 'post', to: 'room', message: 'm', notification: { title: 't', body: 'b', config: { always: true } } });
    expect(ok.result).toEqual({ delivered: 1 });
    const msg = await a.waitFor('message');
    expect(msg).not.toHaveProperty('notification');
    const big = await a.request({ type: 'post', to: 'room', message: 'm', notification: { title: 't', body: 'x'.repeat(3100) } });
    expect(big).toMatchObject({ type: 'error', code: 'INVALID_PARAMETER', message: 'Notification size exceeds 3kb.' });
    const bad = await a.request({ type: 'post', to: 'room', message: 'm', notification: { title: 1 } });
    expect(bad).toMatchObject({ type: 'error', code: 'INVALID_PARAMETER' });
  });
});
