import { describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { expectRejected, join, SECRET, startServer, TestClient, useCleanup } from './helpers.js';

useCleanup();

describe('bad frames', () => {
  it('answer MALFORMED_FRAME / UNKNOWN_TYPE / INVALID_PARAMETER without closing', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    a.send('{not json');
    expect(await a.waitFor('error')).toEqual({ type: 'error', id: null, code: 'MALFORMED_FRAME', message: 'Frame is not valid JSON.' });
    a.send('[1,2]');
    expect(await a.waitFor('error')).toMatchObject({ code: 'MALFORMED_FRAME', id: null });
    a.send({ id: 4 });
    expect(await a.waitFor('error')).toMatchObject({ code: 'MALFORMED_FRAME', id: 4 });
    a.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await a.waitFor('error')).toMatchObject({ code: 'MALFORMED_FRAME', message: expect.stringContaining('Binary') });
    a.send({ type: 'teleport', id: 7 });
    expect(await a.waitFor('error')).toEqual({ type: 'error', id: 7, code: 'UNKNOWN_TYPE', message: 'Unknown frame type "teleport".' });
    a.send({ type: 'join', id: 8, group: 5 });
    expect(await a.waitFor('error')).toMatchObject({ id: 8, code: 'INVALID_PARAMETER', message: expect.stringContaining('group') });
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
    expect((await join(a, 'still-works')).result).toEqual({ group: 'still-works' });
  });

  it('a bad frame from one client changes nothing for another', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    await join(a, 'room');
    await join(b, 'room');
    await a.sync();
    const before = a.frames.length;
    b.send('garbage');
    b.send({ type: 'post', id: 1, to: 'room' });
    b.send({ type: 'nope' });
    await b.waitFor('error');
    await b.waitFor('error');
    await b.waitFor('error');
    await a.sync();
    expect(a.frames.slice(before).map((f) => f.type)).toEqual(['pong']);
    expect((await a.call({ type: 'list_users' })).list).toHaveLength(2);
    expect((await b.request({ type: 'post', to: 'room', message: 'ok' })).result).toEqual({ delivered: 2 });
  });
});

describe('limits', () => {
  it('PAYLOAD_TOO_LARGE with the request id over maxFrameBytes; close 1009 over the hard ceiling', async () => {
    const t = await startServer({ limits: { maxFrameBytes: 2048 } });
    const a = await t.connect('alice');
    await join(a, 'room');
    const reply = await a.request({ type: 'post', to: 'room', message: 'x'.repeat(3000) });
    expect(reply).toMatchObject({ type: 'error', code: 'PAYLOAD_TOO_LARGE' });
    expect((await a.request({ type: 'post', to: 'room', message: 'x'.repeat(1500) })).type).toBe('ack');
    a.send('y'.repeat(2048 * 4 + 1));
    expect((await a.closed).code).toBe(1009);
  });

  it('RATE_LIMITED past the token bucket, with the request id', async () => {
    const t = await startServer({ limits: { messagesPerSecond: 1, messageBurst: 3 } });
    const a = await t.connect('alice');
    for (let i = 0; i < 4; i++) a.send({ type: 'join', id: 100 + i, group: 'room' });
    const errors = [await a.waitFor('error')];
    expect(errors[0]).toMatchObject({ id: 103, code: 'RATE_LIMITED' });
    expect(a.all('ack').map((f) => f.id)).toEqual([100, 101, 102]);
  });

  it('closes with 4500 POLICY_VIOLATION after more than maxViolations errors in the window', async () => {
    const t = await startServer({ limits: { maxViolations: 3, violationWindowMs: 10_000 } });
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    await join(b, 'room');
    await join(a, 'room');
    for (let i = 0; i < 10; i++) a.send('junk');
    expect((await a.closed).code).toBe(4500);
    expect(a.all('error')).toHaveLength(4);
    expect((await b.waitFor((f) => f.code === 'USER_DISCONNECTED')).sender).toBe('alice');
    expect((await b.call({ type: 'list_users' })).list).toHaveLength(1);
  });

  it('errors about valid requests (RECIPIENT_NOT_FOUND, FORBIDDEN, …) do not count as violations', async () => {
    const t = await startServer({ limits: { maxViolations: 3 } });
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    const bCid = (await b.welcome).cid;
    for (let i = 0; i < 10; i++) {
      expect((await a.request({ type: 'post', to: 'nobody', message: i })).code).toBe('RECIPIENT_NOT_FOUND');
      expect((await a.request({ type: 'rtc', to: bCid, call: 'c', signal: { kind: 'candidate', candidate: null } })).code).toBe('FORBIDDEN');
    }
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('TOO_MANY_CONNECTIONS: HTTP 429 at the upgrade once a user has maxConnectionsPerUser open', async () => {
    const t = await startServer({ limits: { maxConnectionsPerUser: 2 } });
    const first = await t.connect('alice');
    const second = await t.connect('alice');
    await join(first, 'room');
    await join(second, 'room');
    const secondCid = (await second.welcome).cid;
    const rejected = await expectRejected(t.wsUrl, { token: await t.token('alice') });
    expect(rejected.status).toBe(429);
    expect(rejected.body).toEqual({ code: 'TOO_MANY_CONNECTIONS', message: 'User "alice" already has 2 open connections.' });
    await t.connect('bob'); // other users are unaffected
    await second.close();
    // Once the server forgot the closed one (its USER_DISCONNECTED went out), alice may connect again.
    await first.waitFor((f) => f.code === 'USER_DISCONNECTED' && f.sender_cid === secondCid);
    const third = await t.connect('alice');
    expect(third.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('heartbeat', () => {
  it('terminates a silent client within two intervals and tells its group USER_DISCONNECTED', async () => {
    // Resume off: with it the group hears of the silent client only when its resume window ends (resume-live.test.ts).
    const t = await startServer({ heartbeatMs: 100, resume: { windowMs: 0 } });
    const watcher = await t.connect('watcher');
    await join(watcher, 'room');
    const silent = await TestClient.open(t.wsUrl, { token: await t.token('silent'), autoPong: false });
    await silent.welcome;
    await join(silent, 'room');
    const lastFrameAt = Date.now();
    const notice = await watcher.waitFor((f) => f.code === 'USER_DISCONNECTED', 3000);
    const elapsed = Date.now() - lastFrameAt;
    expect(notice.sender).toBe('silent');
    expect(elapsed).toBeLessThan(2 * 100 + 300);
    expect((await silent.closed).code).toBe(1006);
  });

  it('keeps a client that answers pings', async () => {
    const t = await startServer({ heartbeatMs: 50 });
    const a = await t.connect('alice');
    let pings = 0;
    await new Promise<void>((resolve) => a.ws.on('ping', () => ++pings === 6 && resolve()));
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
    expect((await join(a, 'room')).type).toBe('ack');
  });
});

describe('close codes', () => {
  it('graceful shutdown closes every socket with 4000 and refuses new connections', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    const b = await t.connect('bob');
    await join(a, 'room');
    await t.server.close();
    expect((await a.closed).code).toBe(4000);
    expect((await b.closed).code).toBe(4000);
    await expect(TestClient.open(t.wsUrl, { token: await t.token('carol') })).rejects.toThrow();
  });

  it('closes with 4004 TOKEN_EXPIRED when the token expires while connected', async () => {
    const t = await startServer();
    // `exp` is in whole seconds: pick one 0.3–1.3 s away so the upgrade still accepts it.
    const now = Date.now();
    let exp = Math.floor(now / 1000) + 1;
    if (exp * 1000 - now < 300) exp += 1;
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime(exp).sign(new TextEncoder().encode(SECRET));
    const a = await TestClient.open(t.wsUrl, { token });
    await a.welcome;
    const closed = await a.closed;
    expect(closed.code).toBe(4004);
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
  });

  it('closes a slow consumer with 4002 once its send buffer overflows', async () => {
    // Resume off: with it a closing connection's frames are buffered for its resume and count as delivered.
    const t = await startServer({
      limits: { maxBufferedBytes: 64 * 1024, maxFrameBytes: 256 * 1024, messagesPerSecond: 10_000, messageBurst: 10_000 },
      resume: { windowMs: 0 },
    });
    const slow = await t.connect('slow');
    const sender = await t.connect('sender');
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const payload = 'z'.repeat(200 * 1024);
    let delivered = 1;
    for (let i = 0; i < 2000 && delivered > 0; i++) {
      const reply = await sender.request({ type: 'post', to: 'slow', message: payload }, 5000);
      delivered = reply.type === 'ack' ? reply.result.delivered : 0;
    }
    expect(delivered).toBe(0);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect((await slow.closed).code).toBe(4002);
  });
});
