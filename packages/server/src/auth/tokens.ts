/**
 * JWTs. `sub` is the user_id, `name` the optional display name, `exp` is
 * required. HS256: several secrets may verify (rotation); the first signs (guest and
 * `switchboard token` tokens). Ordinary HS256 tokens are signed and verified synchronously
 * with node:crypto (hs256.ts); any other shape goes through jose, for which each secret is
 * imported once, on first need, as an HMAC CryptoKey (given raw bytes, jose would re-import
 * the key on every call). With a JWKS configured, asymmetric tokens (RS/PS/ES/EdDSA) verify
 * against it (jwks.ts).
 */
import { decodeProtectedHeader, jwtVerify, errors as joseErrors, type CryptoKey, type JWTPayload } from 'jose';
import { CID_PREFIX, DISPLAY_NAME_MAX, USER_ID_MAX, type UserInfo } from '@switchboard/protocol';
import { hmacKey, signHs256, verifyHs256 } from './hs256.js';
import { randomId } from './random-id.js';
import { createJwksVerifier, type JwksOptions, type JwksVerifier } from './jwks.js';
import type { VerifyFailure } from './verify-failure.js';

export interface VerifiedToken {
  user: UserInfo;
  /** Unix ms. */
  expiresAt: number;
}

/** SERVER_UNAVAILABLE: the identity provider's keys could not be fetched (retry later). */
export type { VerifyFailure };
export type VerifyResult = { ok: true; value: VerifiedToken } | { ok: false; error: VerifyFailure };

const encoder = new TextEncoder();

export interface TokenAuthority {
  verify(token: string): Promise<VerifyResult>;
  sign(claims: { user_id: string; name?: string | null; ttlSeconds: number; guest?: boolean }): Promise<{ token: string; expiresAt: number }>;
}

export function userIdProblem(userId: string): string | null {
  if (userId.length === 0 || userId.length > USER_ID_MAX) return `user_id must be 1–${USER_ID_MAX} characters.`;
  if (userId.startsWith(CID_PREFIX)) return 'user_id must not start with "cid:".';
  return null;
}

/**
 * An HS256 key for jose, imported once. Never rejects: a secret WebCrypto refuses (an empty
 * one) stays raw bytes, so jose reports it per call as it did before (that key never verifies).
 */
function importHs256Key(secret: string): Promise<CryptoKey | Uint8Array> {
  const bytes = encoder.encode(secret);
  return crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']).catch(() => bytes);
}

function verified(payload: JWTPayload): VerifyResult {
  const sub = payload.sub ?? '';
  const problem = userIdProblem(sub);
  if (problem) return { ok: false, error: { code: 'UNAUTHORIZED', message: `Invalid token subject: ${problem}` } };
  const rawName = payload['name'];
  const name = typeof rawName === 'string' && rawName.length > 0 ? rawName.slice(0, DISPLAY_NAME_MAX) : null;
  return { ok: true, value: { user: { user_id: sub, name }, expiresAt: (payload.exp ?? 0) * 1000 } };
}

function algorithmOf(token: string): string | null {
  try {
    return decodeProtectedHeader(token).alg ?? null;
  } catch {
    return null;
  }
}

export function createTokenAuthority(secrets: readonly string[], jwks: JwksOptions | null = null): TokenAuthority {
  if (secrets.length === 0) throw new Error('createTokenAuthority: at least one secret is required');
  const hmacKeys = secrets.map(hmacKey);
  let joseKeys: Promise<CryptoKey | Uint8Array>[] | null = null;
  const provider: JwksVerifier | null = jwks ? createJwksVerifier(jwks) : null;

  return {
    async verify(token) {
      const fast = verifyHs256(token, hmacKeys);
      if (fast?.ok) return verified(fast.payload);
      if (fast !== undefined) {
        return fast.expired
          ? { ok: false, error: { code: 'TOKEN_EXPIRED', message: 'The token has expired.' } }
          : { ok: false, error: { code: 'UNAUTHORIZED', message: 'The token is invalid.' } };
      }
      const alg = algorithmOf(token);
      if (alg !== null && alg !== 'HS256') {
        if (!provider) {
          return {
            ok: false,
            error: {
              code: 'UNAUTHORIZED',
              message: `The token is signed with ${alg.slice(0, 16)}; this server verifies HS256 only (set auth.jwks to your identity provider's JWKS URL).`,
            },
          };
        }
        const result = await provider(token);
        return result.ok ? verified(result.payload) : result;
      }
      let expired = false;
      for (const pending of (joseKeys ??= secrets.map(importHs256Key))) {
        try {
          const key = await pending;
          const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] });
          return verified(payload);
        } catch (err) {
          // A JWTExpired error means the signature matched this key: the token is genuine but stale.
          if (err instanceof joseErrors.JWTExpired) expired = true;
        }
      }
      return expired
        ? { ok: false, error: { code: 'TOKEN_EXPIRED', message: 'The token has expired.' } }
        : { ok: false, error: { code: 'UNAUTHORIZED', message: 'The token is invalid.' } };
    },

    async sign({ user_id, name, ttlSeconds, guest }) {
      const exp = Math.floor(Date.now() / 1000) + Math.max(1, Math.floor(ttlSeconds));
      const claims: Record<string, unknown> = {};
      if (name) claims['name'] = name;
      if (guest) claims['guest'] = true;
      const key = hmacKeys[0];
      if (!key) throw new Error('createTokenAuthority: the signing secret is empty');
      const token = signHs256(key, claims, user_id, Math.floor(Date.now() / 1000), exp);
      return { token, expiresAt: exp * 1000 };
    },
  };
}

/** Signs a token with the first of `secrets` (used by `switchboard token` and tests). */
export async function signToken(secrets: readonly string[], claims: { user_id: string; name?: string | null; ttlSeconds?: number }): Promise<string> {
  const { token } = await createTokenAuthority(secrets).sign({ ttlSeconds: 3600, ...claims });
  return token;
}

export const guestUserId = (): string => `guest-${randomId(9)}`;
