/**
 * Resume tokens: `<payload>.<mac>`, both base64url. The payload names the user, the cid, the
 * epoch of the replay store and the resume generation; the MAC is HMAC-SHA256 (cut to 128 bits)
 * under a key derived from each auth secret, so any node of a cluster (same secrets) verifies a
 * token another node minted without asking the store, and a forged or foreign token is refused
 * before any state is touched. The derivation keeps these MACs apart from the JWT signatures
 * made with the same secrets. The token proves ownership only: whether the cid can still be
 * resumed is the replay store's answer (decision.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface ResumeClaims {
  userId: string;
  cid: string;
  /** The replay store's epoch when the token was minted (changes when the store lost its state). */
  epoch: string;
  /** Bumped by every successful resume: an older token of the same cid is `taken_over`. */
  generation: number;
}

export interface ResumeTokens {
  mint(claims: ResumeClaims): string;
  /** The claims of a genuine token of `userId`, or null (malformed, forged, rotated out, another user). */
  verify(token: string, userId: string): ResumeClaims | null;
}

const MAC_BYTES = 16;
const MAX_TOKEN_LENGTH = 1024;
const DERIVATION_LABEL = 'switchboard resume token v1';

const deriveKey = (secret: string): Buffer => createHmac('sha256', secret).update(DERIVATION_LABEL).digest();
const macOf = (key: Buffer, payload: string): Buffer => createHmac('sha256', key).update(payload).digest().subarray(0, MAC_BYTES);

/** The first secret signs, every secret verifies (rotation, as for JWTs). */
export function createResumeTokens(secrets: readonly string[]): ResumeTokens {
  if (secrets.length === 0) throw new Error('createResumeTokens: at least one secret is required');
  const keys = secrets.map(deriveKey);

  return {
    mint({ userId, cid, epoch, generation }) {
      const payload = Buffer.from(JSON.stringify({ u: userId, c: cid, e: epoch, g: generation })).toString('base64url');
      return `${payload}.${macOf(keys[0]!, payload).toString('base64url')}`;
    },

    verify(token, userId) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
      const dot = token.indexOf('.');
      if (dot <= 0 || dot !== token.lastIndexOf('.')) return null;
      const payload = token.slice(0, dot);
      const mac = Buffer.from(token.slice(dot + 1), 'base64url');
      if (mac.length !== MAC_BYTES) return null;
      if (!keys.some((key) => timingSafeEqual(macOf(key, payload), mac))) return null;
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        return null;
      }
      const { u, c, e, g } = (parsed ?? {}) as Record<string, unknown>;
      if (typeof u !== 'string' || typeof c !== 'string' || typeof e !== 'string') return null;
      if (typeof g !== 'number' || !Number.isSafeInteger(g) || g < 0) return null;
      if (u !== userId) return null;
      return { userId: u, cid: c, epoch: e, generation: g };
    },
  };
}
