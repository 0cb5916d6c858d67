import { Writable } from 'node:stream';
import { jwtVerify, SignJWT } from 'jose';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTokenAuthority, signToken } from '../src/index.js';
import { expectRejected, SECRET, startServer, TestClient, useCleanup } from './helpers.js';

useCleanup();
afterEach(() => vi.restoreAllMocks());

const OTHER = 'second-secret-abcdefghijklmnop';

async function expiredToken(secret = SECRET): Promise<string> {
  return new SignJWT({ name: 'Old' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('alice')
    .setIssuedAt(Math.floor(Date.now() / 1000) - 120)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
    .sign(new TextEncoder().encode(secret));
}

describe('upgrade authentication (before the socket exists)', () => {
  it('401 UNAUTHORIZED JSON without a token or with a bad one', async () => {
    const t = await startServer();
    const missing = await expectRejected(t.wsUrl);
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(String(missing.headers['content-type'])).toContain('application/json');

    const bad = await expectRejected(t.wsUrl, { token: 'not.a.jwt' });
    expect(bad).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED', message: 'The token is invalid.' } });

    const wrongKey = await signToken(['some-other-secret-xxxxxxxx'], { user_id: 'alice' });
    expect((await expectRejected(t.wsUrl, { token: wrongKey })).body.code).toBe('UNAUTHORIZED');

    const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(new TextEncoder().encode(SECRET));
    expect((await expectRejected(t.wsUrl, { token: noExp })).body.code).toBe('UNAUTHORIZED');

    const cidSubject = await signToken([SECRET], { user_id: 'cid:evil' });
    expect((await expectRejected(t.wsUrl, { token: cidSubject })).body.code).toBe('UNAUTHORIZED');
  });

  it('401 TOKEN_EXPIRED for an expired token', async () => {
    const t = await startServer();
    const rejected = await expectRejected(t.wsUrl, { token: await expiredToken() });
    expect(rejected).toMatchObject({ status: 401, body: { code: 'TOKEN_EXPIRED', message: 'The token has expired.' } });
  });

  it('accepts tokens signed by any configured secret (rotation)', async () => {
    const t = await startServer({ auth: { secrets: [SECRET, OTHER] } });
    const token = await signToken([OTHER], { user_id: 'rotated', name: 'R' });
    const client = await TestClient.open(t.wsUrl, { token });
    expect((await client.welcome).user).toEqual({ user_id: 'rotated', name: 'R' });
    // An expired token under the second secret is still TOKEN_EXPIRED, not UNAUTHORIZED.
    expect((await expectRejected(t.wsUrl, { token: await expiredToken(OTHER) })).body.code).toBe('TOKEN_EXPIRED');
  });

  it('takes the token from ?token= or Authorization: Bearer as fallbacks', async () => {
    const t = await startServer();
    const token = await t.token('alice');
    const viaQuery = await TestClient.open(t.wsUrl, { protocols: ['switchboard.v1'], query: `token=${token}` });
    expect((await viaQuery.welcome).user.user_id).toBe('alice');
    const viaHeader = await TestClient.open(t.wsUrl, { protocols: [], headers: { Authorization: `Bearer ${token}` } });
    expect((await viaHeader.welcome).user.user_id).toBe('alice');
    expect(viaHeader.ws.protocol).toBe('');
  });

  it('selects only switchboard.v1 (never echoes the token protocol) and requires it when protocols are offered', async () => {
    const t = await startServer();
    const token = await t.token('alice');
    const client = await TestClient.open(t.wsUrl, { protocols: [`bearer.${token}`, 'switchboard.v1'] });
    expect(client.ws.protocol).toBe('switchboard.v1');
    const wrong = await expectRejected(t.wsUrl, { protocols: ['chat', `bearer.${token}`] });
    expect(wrong).toMatchObject({ status: 400, body: { code: 'INVALID_REQUEST', message: 'Subprotocol "switchboard.v1" is required.' } });
  });

  it('404 JSON for upgrades on other paths', async () => {
    const t = await startServer();
    const rejected = await expectRejected(t.url.replace('http', 'ws') + '/elsewhere', { token: await t.token('a') });
    expect(rejected).toMatchObject({ status: 404, body: { code: 'INVALID_REQUEST' } });
  });

  it('never writes tokens to the logs', async () => {
    let logs = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs += chunk.toString();
        done();
      },
    });
    const logger = pino({ level: 'trace' }, sink);
    const t = await startServer({}, { logger });
    const token = await t.token('alice');
    const a = await TestClient.open(t.wsUrl, { token });
    await a.welcome;
    const b = await TestClient.open(t.wsUrl, { protocols: ['switchboard.v1'], query: `token=${token}` });
    await b.welcome;
    const expired = await expiredToken();
    await expectRejected(t.wsUrl, { query: `token=${expired}`, protocols: ['switchboard.v1'] });
    await fetch(`${t.url}/v1/session`, { headers: { Authorization: `Bearer ${expired}` } });
    await fetch(`${t.url}/v1/guest`, { method: 'POST', body: '{"name":"G"}' });
    await a.close();
    await b.close();
    await t.server.close();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).toContain('upgrade rejected');
    for (const secret of [token, expired, token.split('.')[2]!, expired.split('.')[2]!]) expect(logs).not.toContain(secret);
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });
});

describe('createTokenAuthority', () => {
  it('imports no key per verify or sign (ordinary HS256 tokens need no WebCrypto; jose gets each secret once)', async () => {
    const rotated = await signToken([OTHER], { user_id: 'bob' });
    const expired = await expiredToken(OTHER);
    const importKey = vi.spyOn(crypto.subtle, 'importKey');
    const authority = createTokenAuthority([SECRET, OTHER]);
    const { token } = await authority.sign({ user_id: 'alice', ttlSeconds: 60 });
    for (let i = 0; i < 5; i++) {
      expect(await authority.verify(token)).toMatchObject({ ok: true, value: { user: { user_id: 'alice' } } });
      expect(await authority.verify(rotated)).toMatchObject({ ok: true, value: { user: { user_id: 'bob' } } });
      expect(await authority.verify(expired)).toMatchObject({ ok: false, error: { code: 'TOKEN_EXPIRED' } });
      expect(await authority.verify('not.a.jwt')).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
      await authority.sign({ user_id: 'carol', ttlSeconds: 60 });
    }
    // Only 'not.a.jwt' goes to jose, which gets each secret imported once, on first need.
    expect(importKey).toHaveBeenCalledTimes(2);
  });

  it('signs tokens any HS256 verifier accepts with the raw secret', async () => {
    const { token, expiresAt } = await createTokenAuthority([SECRET]).sign({ user_id: 'alice', name: 'A', ttlSeconds: 60 });
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(SECRET));
    expect(protectedHeader).toMatchObject({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toMatchObject({ sub: 'alice', name: 'A', exp: expiresAt / 1000 });
  });

  it('an unusable (empty) secret among several never verifies and does not break the others', async () => {
    const authority = createTokenAuthority(['', SECRET]);
    const token = await signToken([SECRET], { user_id: 'alice' });
    expect(await authority.verify(token)).toMatchObject({ ok: true, value: { user: { user_id: 'alice' } } });
    expect(await authority.verify(await expiredToken())).toMatchObject({ ok: false, error: { code: 'TOKEN_EXPIRED' } });
    await expect(createTokenAuthority(['']).sign({ user_id: 'alice', ttlSeconds: 60 })).rejects.toThrow();
  });
});
