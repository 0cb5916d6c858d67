import { SignJWT, type JWTHeaderParameters } from 'jose';
import { describe, expect, it } from 'vitest';
import { hmacKey, signHs256, verifyHs256 } from '../src/auth/hs256.js';
import { createTokenAuthority } from '../src/index.js';

const SECRET = 'hs256-test-secret-abcdefghijklmnop';
const OTHER = 'hs256-other-secret-abcdefghijklmnop';
const now = () => Math.floor(Date.now() / 1000);

function jwt(claims: Record<string, unknown>, header: JWTHeaderParameters = { alg: 'HS256' }, secret = SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header).sign(new TextEncoder().encode(secret));
}

describe('HS256 without WebCrypto (hs256.ts)', () => {
  const keys = [hmacKey(SECRET), hmacKey(OTHER)];

  it('verifies what jose signs, with either secret, with or without typ', async () => {
    for (const [header, secret] of [
      [{ alg: 'HS256' }, SECRET],
      [{ alg: 'HS256', typ: 'JWT' }, OTHER],
    ] as const) {
      const token = await jwt({ sub: 'alice', exp: now() + 60, iat: now(), name: 'A' }, header, secret);
      expect(verifyHs256(token, keys)).toMatchObject({ ok: true, payload: { sub: 'alice', name: 'A' } });
    }
  });

  it('refuses a wrong signature and says expired only when a key matched', async () => {
    const wrong = await jwt({ sub: 'alice', exp: now() + 60 }, { alg: 'HS256' }, 'not-the-secret-at-all-xxxxxxxx');
    expect(verifyHs256(wrong, keys)).toEqual({ ok: false, expired: false });
    const stale = await jwt({ sub: 'alice', exp: now() - 1 }, { alg: 'HS256' }, OTHER);
    expect(verifyHs256(stale, keys)).toEqual({ ok: false, expired: true });
    const staleForged = await jwt({ sub: 'alice', exp: now() - 1 }, { alg: 'HS256' }, 'not-the-secret-at-all-xxxxxxxx');
    expect(verifyHs256(staleForged, keys)).toEqual({ ok: false, expired: false });
    // exp is exclusive, as in jose: a token is stale in the second it expires.
    const edge = await jwt({ sub: 'alice', exp: 1_000 }, { alg: 'HS256' });
    expect(verifyHs256(edge, keys, 999_999)).toMatchObject({ ok: true });
    expect(verifyHs256(edge, keys, 1_000_000)).toEqual({ ok: false, expired: true });
  });

  it('leaves every other shape to jose (undefined)', async () => {
    const odd = [
      'not.a.jwt',
      'a.b',
      await jwt({ sub: 'alice', exp: now() + 60 }, { alg: 'HS256', kid: 'k1' }),
      await jwt({ sub: 'alice', exp: now() + 60 }, { alg: 'HS256', typ: 'at+jwt' }),
      await jwt({ sub: 'alice' }),
      await jwt({ exp: now() + 60 }),
      await jwt({ sub: 'alice', exp: String(now() + 60) }),
      await jwt({ sub: 'alice', exp: now() + 60, iat: 'yesterday' }),
      await jwt({ sub: 'alice', exp: now() + 60, nbf: now() + 3600 }),
      await jwt({ sub: 42, exp: now() + 60 }),
      (await jwt({ sub: 'alice', exp: now() + 60 })) + '.extra',
    ];
    for (const token of odd) expect(verifyHs256(token, keys)).toBeUndefined();
  });

  it('an empty secret never verifies', async () => {
    const token = signHs256(hmacKey('x')!, {}, 'alice', now(), now() + 60);
    expect(hmacKey('')).toBeNull();
    expect(verifyHs256(token, [null])).toEqual({ ok: false, expired: false });
  });

  it('the authority answers odd shapes as jose does', async () => {
    const authority = createTokenAuthority([SECRET, OTHER]);
    const verify = async (token: string) => {
      const result = await authority.verify(token);
      return result.ok ? { ok: true, user: result.value.user.user_id } : { ok: false, code: result.error.code };
    };
    expect(await verify(await jwt({ sub: 'alice', exp: now() + 60 }, { alg: 'HS256', kid: 'k1' }))).toEqual({ ok: true, user: 'alice' });
    expect(await verify(await jwt({ sub: 'alice', exp: now() + 60, nbf: now() + 3600 }))).toEqual({ ok: false, code: 'UNAUTHORIZED' });
    expect(await verify(await jwt({ sub: 'alice', exp: now() + 60, iat: 'yesterday' }))).toEqual({ ok: false, code: 'UNAUTHORIZED' });
    expect(await verify(await jwt({ sub: 'alice', exp: now() - 5 }, { alg: 'HS256', kid: 'k1' }, OTHER))).toEqual({ ok: false, code: 'TOKEN_EXPIRED' });
    expect(await verify(await jwt({ sub: 'bob', exp: now() + 60 }))).toEqual({ ok: true, user: 'bob' });
  });
});

describe('randomId (pooled random bytes)', () => {
  it('hands out distinct ids of the asked length across pool refills', async () => {
    const { randomId } = await import('../src/auth/random-id.js');
    const ids = new Set<string>();
    for (let i = 0; i < 2_000; i++) ids.add(randomId(12)); // ~6 refills of the 4 KiB pool
    expect(ids.size).toBe(2_000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(randomId(9)).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });
});
