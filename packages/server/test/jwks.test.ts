// Tokens from an identity provider: RS256/ES256 JWTs verified against a JWKS served by a real
// HTTP server on 127.0.0.1 (port 0), through real WebSocket upgrades.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTokenAuthority } from '../src/index.js';
import { expectRejected, SECRET, startServer, TestClient, useCleanup } from './helpers.js';

useCleanup();

type Signer = { kid: string; alg: 'RS256' | 'ES256'; key: CryptoKey; jwk: JWK };
const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'switchboard';

async function signer(kid: string, alg: 'RS256' | 'ES256'): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, key: privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function token(s: Signer, claims: { sub?: string; name?: string; iss?: string; aud?: string; expInSeconds?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims.name ? { name: claims.name } : {})
    .setProtectedHeader({ alg: s.alg, kid: s.kid, typ: 'JWT' })
    .setSubject(claims.sub ?? 'idp-user-1')
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setIssuedAt(now - 5)
    .setExpirationTime(now + (claims.expInSeconds ?? 600));
  return jwt.sign(s.key);
}

/** A JWKS endpoint whose keys and status the test controls, counting fetches. */
class JwksServer {
  keys: JWK[] = [];
  status = 200;
  fetches = 0;
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((_req, res) => {
      this.fetches += 1;
      res.writeHead(this.status, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }
}

let rsa: Signer;
let ec: Signer;
let stranger: Signer;
const jwksServers: JwksServer[] = [];

beforeAll(async () => {
  [rsa, ec, stranger] = await Promise.all([signer('rsa-1', 'RS256'), signer('ec-1', 'ES256'), signer('rsa-unlisted', 'RS256')]);
});
afterEach(async () => {
  await Promise.all(jwksServers.splice(0).map((s) => s.stop()));
});

async function jwks(keys: JWK[]): Promise<JwksServer> {
  const server = await new JwksServer().start();
  server.keys = keys;
  jwksServers.push(server);
  return server;
}

describe('auth.jwks: identity-provider tokens on the WebSocket upgrade', () => {
  it('accepts RS256 and ES256 tokens from the JWKS (sub, name) next to the server’s own HS256 tokens', async () => {
    const idp = await jwks([rsa.jwk, ec.jwk]);
    const t = await startServer({ auth: { secrets: [SECRET], jwks: idp.url, issuer: ISSUER, audience: AUDIENCE } });
    const viaRsa = await TestClient.open(t.wsUrl, { token: await token(rsa, { sub: 'auth0|alice', name: 'Alice' }) });
    expect((await viaRsa.welcome).user).toEqual({ user_id: 'auth0|alice', name: 'Alice' });
    const viaEc = await TestClient.open(t.wsUrl, { token: await token(ec, { sub: 'bob' }) });
    expect((await viaEc.welcome).user).toEqual({ user_id: 'bob', name: null });
    const own = await TestClient.open(t.wsUrl, { token: await t.token('carol') });
    expect((await own.welcome).user.user_id).toBe('carol');
    expect(idp.fetches).toBe(1); // fetched once, then cached
  });

  it('names what is wrong: expired, another issuer or audience, a key the JWKS does not list', async () => {
    const idp = await jwks([rsa.jwk]);
    const t = await startServer({ auth: { secrets: [SECRET], jwks: idp.url, issuer: ISSUER, audience: AUDIENCE } });
    expect(await expectRejected(t.wsUrl, { token: await token(rsa, { expInSeconds: -60 }) })).toMatchObject({
      status: 401,
      body: { code: 'TOKEN_EXPIRED' },
    });
    const issuer = await expectRejected(t.wsUrl, { token: await token(rsa, { iss: 'https://evil.example/' }) });
    expect(issuer).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    expect(issuer.body.message).toContain('"iss"');
    const audience = await expectRejected(t.wsUrl, { token: await token(rsa, { aud: 'someone-else' }) });
    expect(audience.body.message).toContain('"aud"');
    const unlisted = await expectRejected(t.wsUrl, { token: await token(stranger) });
    expect(unlisted).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    expect(unlisted.body.message).toContain('does not list');
    const cidSubject = await expectRejected(t.wsUrl, { token: await token(rsa, { sub: 'cid:evil' }) });
    expect(cidSubject.body.code).toBe('UNAUTHORIZED');
  });

  it('identity provider unreachable or broken → 503 SERVER_UNAVAILABLE (retryable); HS256 tokens still work', async () => {
    const idp = await jwks([rsa.jwk]);
    idp.status = 500;
    const t = await startServer({ auth: { secrets: [SECRET], jwks: idp.url } });
    const broken = await expectRejected(t.wsUrl, { token: await token(rsa) });
    expect(broken).toMatchObject({ status: 503, body: { code: 'SERVER_UNAVAILABLE' } });
    await idp.stop();
    const down = await startServer({ auth: { secrets: [SECRET], jwks: idp.url } });
    expect(await expectRejected(down.wsUrl, { token: await token(rsa) })).toMatchObject({ status: 503, body: { code: 'SERVER_UNAVAILABLE' } });
    const own = await TestClient.open(down.wsUrl, { token: await down.token('still-works') });
    expect((await own.welcome).user.user_id).toBe('still-works');
  });

  it('without auth.jwks an RS256 token is refused with a message that says what to configure', async () => {
    const t = await startServer();
    const rejected = await expectRejected(t.wsUrl, { token: await token(rsa) });
    expect(rejected).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    expect(rejected.body.message).toContain('auth.jwks');
  });

  it('rejects a jwks setting that is not an http(s) URL', async () => {
    await expect(startServer({ auth: { jwks: 'file:///etc/keys.json' } })).rejects.toThrow(/auth\.jwks/);
  });
});

describe('JWKS key rotation and fetch budget (token authority)', () => {
  it('a token with a new key id makes the JWKS be fetched again (after the cooldown), and is accepted', async () => {
    const idp = await jwks([rsa.jwk]);
    const authority = createTokenAuthority([SECRET], { url: idp.url, issuer: null, audience: null, cooldownMs: 50 });
    expect((await authority.verify(await token(rsa))).ok).toBe(true);
    const next = await signer('rsa-2', 'RS256');
    idp.keys = [rsa.jwk, next.jwk]; // the provider rotates: the new key is published first
    await new Promise((resolve) => setTimeout(resolve, 60));
    const rotated = await authority.verify(await token(next, { sub: 'rotated' }));
    expect(rotated).toMatchObject({ ok: true, value: { user: { user_id: 'rotated' } } });
    expect(idp.fetches).toBe(2);
  });

  it('tokens naming unknown key ids cannot make the server hammer the provider (one fetch per cooldown)', async () => {
    const idp = await jwks([rsa.jwk]);
    const authority = createTokenAuthority([SECRET], { url: idp.url, issuer: null, audience: null });
    expect((await authority.verify(await token(rsa))).ok).toBe(true);
    const forged = await Promise.all(Array.from({ length: 20 }, async (_, i) => token({ ...stranger, kid: `made-up-${i}` })));
    const results = await Promise.all(forged.map((jwt) => authority.verify(jwt)));
    expect(results.every((r) => !r.ok && r.error.code === 'UNAUTHORIZED')).toBe(true);
    expect(idp.fetches).toBeLessThanOrEqual(2);
  });
});
