/**
 * The part of the HTTP answers the browser SDK reads, checked without valibot: each check
 * accepts exactly what its schema in `sdkReadSchemas` (schemas/http.ts) accepts, and every
 * valid full answer passes it (a protocol test runs both over one corpus).
 */
import { isJsonObject } from './is-object.js';
import type { SessionResponse } from './schemas/http.js';

export type { GuestRequest, GuestResponse, HealthResponse, HttpBodyOf, IceResponse, InfoResponse, SessionResponse } from './schemas/http.js';

/** POST /v1/guest's 200 answer has a token. */
export function isGuestAnswer(b: unknown): b is { token: string } {
  return isJsonObject(b) && typeof b['token'] === 'string' && b['token'] !== '';
}

/** GET /v1/session's 200 answer has the user's connection counts. */
export function isSessionAnswer(b: unknown): b is Pick<SessionResponse, 'connections'> {
  const c = isJsonObject(b) ? b['connections'] : null;
  return isJsonObject(c) && Number.isFinite(c['open']) && Number.isFinite(c['max']);
}
