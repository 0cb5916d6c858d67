/**
 * Tokens from an identity provider (Auth0, Keycloak, Firebase, Supabase, your own):
 * RS/PS/ES/EdDSA JWTs verified against the provider's JWKS. jose's remote key set fetches
 * the document on first use, caches it, and fetches again when a token names a key id it
 * has not seen (key rotation), at most once per cooldown, so a flood of tokens with made-up
 * key ids cannot turn into a flood of requests to the provider.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { VerifyFailure } from './verify-failure.js';

export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface JwksOptions {
  url: string;
  /** Required `iss` (null: not checked). */
  issuer: string | null;
  /** Required `aud` (null: not checked). */
  audience: string | null;
  /** Shortest time between two fetches of the document (default 30 s). */
  cooldownMs?: number;
  /** How long one fetch may take (default 5 s). */
  timeoutMs?: number;
}

export type JwksVerifier = (token: string) => Promise<{ ok: true; payload: JWTPayload } | { ok: false; error: VerifyFailure }>;

export function createJwksVerifier(options: JwksOptions): JwksVerifier {
  const keys = createRemoteJWKSet(new URL(options.url), {
    cooldownDuration: options.cooldownMs ?? 30_000,
    timeoutDuration: options.timeoutMs ?? 5_000,
  });
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: ASYMMETRIC_ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
        ...(options.issuer ? { issuer: options.issuer } : {}),
        ...(options.audience ? { audience: options.audience } : {}),
      });
      return { ok: true, payload };
    } catch (err) {
      return { ok: false, error: failure(err) };
    }
  };
}

function failure(err: unknown): VerifyFailure {
  if (err instanceof joseErrors.JWTExpired) return { code: 'TOKEN_EXPIRED', message: 'The token has expired.' };
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return { code: 'UNAUTHORIZED', message: `The token's "${err.claim}" claim is not accepted (${err.reason}).` };
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey) {
    return { code: 'UNAUTHORIZED', message: 'The token is signed with a key the identity provider does not list.' };
  }
  // Fetch failures: timeouts, an invalid document, a non-200 answer or unparsable JSON (plain
  // JOSEErrors, ERR_JOSE_GENERIC), and network errors (not JOSE errors at all).
  const unreachable =
    err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || !(err instanceof joseErrors.JOSEError) || err.code === 'ERR_JOSE_GENERIC';
  if (unreachable) {
    // The provider is down or answers nonsense: the token may well be fine, so the client should retry.
    return { code: 'SERVER_UNAVAILABLE', message: `The identity provider's keys could not be fetched: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { code: 'UNAUTHORIZED', message: 'The token is invalid.' };
}
