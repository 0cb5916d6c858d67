/**
 * HS256 JWTs in the ordinary shape (header exactly `{"alg":"HS256"}` or `{"alg":"HS256","typ":"JWT"}`,
 * a payload with numeric `exp`, string `sub`, numeric or absent `iat`/`nbf`) signed and verified
 * synchronously with node:crypto. jose does the same through WebCrypto, whose HMAC runs as an async
 * job on the thread pool: most of the server's CPU per accepted connection, and a promise hop or
 * two of latency. Anything outside that shape returns `undefined` here and is left to jose
 * (tokens.ts), so what is accepted or refused, and why, does not change.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { JWTPayload } from 'jose';

export type FastVerify = { ok: true; payload: JWTPayload } | { ok: false; expired: boolean };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** 32 bytes of HMAC-SHA256 in unpadded base64url. */
const SIGNATURE_CHARS = 43;
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
/** The two ordinary headers as jose and most libraries write them: recognised without decoding. */
const KNOWN_HEADERS = new Set([HEADER, Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url')]);

/** A secret as an HMAC key; null for an empty one (it never verifies, as with jose). */
export function hmacKey(secret: string): KeyObject | null {
  return secret.length === 0 ? null : createSecretKey(Buffer.from(secret, 'utf8'));
}

function decodeJson(segment: string): unknown {
  if (!BASE64URL.test(segment)) return undefined;
  try {
    return JSON.parse(strictUtf8.decode(Buffer.from(segment, 'base64url')));
  } catch {
    return undefined;
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function ordinaryHeader(header: unknown): boolean {
  if (!isPlainObject(header) || header['alg'] !== 'HS256') return false;
  const keys = Object.keys(header);
  return keys.length === 1 || (keys.length === 2 && header['typ'] === 'JWT');
}

/**
 * Verifies `token` against `keys` (rotation: any may match). `undefined`: not the ordinary shape,
 * ask jose. `{ok: false, expired}`: refused as jose would (expired only when a key matched).
 */
export function verifyHs256(token: string, keys: readonly (KeyObject | null)[], nowMs = Date.now()): FastVerify | undefined {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second <= first + 1 || token.indexOf('.', second + 1) !== -1) return undefined;
  const signature = token.slice(second + 1);
  if (signature.length !== SIGNATURE_CHARS || !BASE64URL.test(signature)) return undefined;
  const header = token.slice(0, first);
  if (!KNOWN_HEADERS.has(header) && !ordinaryHeader(decodeJson(header))) return undefined;
  const mac = Buffer.from(signature, 'base64url');
  const signed = token.slice(0, second);
  let matched = false;
  for (const key of keys) {
    if (key !== null && timingSafeEqual(createHmac('sha256', key).update(signed).digest(), mac)) {
      matched = true;
      break;
    }
  }
  if (!matched) return { ok: false, expired: false };
  const payload = decodeJson(token.slice(first + 1, second));
  if (!isPlainObject(payload)) return undefined;
  const { exp, sub, iat, nbf } = payload;
  if (typeof exp !== 'number' || typeof sub !== 'string') return undefined;
  if ((iat !== undefined && typeof iat !== 'number') || (nbf !== undefined && typeof nbf !== 'number')) return undefined;
  const now = Math.floor(nowMs / 1000);
  if (nbf !== undefined && nbf > now) return undefined; // jose's message for it
  if (exp <= now) return { ok: false, expired: true };
  return { ok: true, payload };
}

/** Signs claims (`sub`, `iat`, `exp` added) as jose's SignJWT with `{alg: 'HS256', typ: 'JWT'}` would. */
export function signHs256(key: KeyObject, claims: Record<string, unknown>, sub: string, iat: number, exp: number): string {
  const body = `${HEADER}.${Buffer.from(JSON.stringify({ ...claims, sub, iat, exp })).toString('base64url')}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}
