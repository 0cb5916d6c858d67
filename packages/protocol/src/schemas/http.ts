import * as v from 'valibot';
import { isJsonObject } from '../is-object.js';
import { DISPLAY_NAME_MAX } from '../limits.js';
import type { Result } from '../codec.js';
import { finiteNumber, user } from './common.js';
import { resultSchemas } from './server.js';

/**
 * The HTTP endpoints' bodies (docs/protocol.md §2). The server validates requests and types its
 * answers with them; the browser SDK checks the part it reads (sdkReadSchemas) with the
 * valibot-free checks of http.ts, which a protocol test keeps in agreement with those.
 */
export const httpSchemas = {
  /** POST /v1/guest request: an optional display name, trimmed. */
  guestRequest: v.object({
    name: v.optional(
      v.nullable(
        v.pipe(v.string('"name" must be a string.'), v.trim(), v.maxLength(DISPLAY_NAME_MAX, `"name" must be at most ${DISPLAY_NAME_MAX} characters.`)),
      ),
    ),
  }),
  /** POST /v1/guest answer: a signed guest token for a `guest-…` user; `expiresAt` in Unix ms. */
  guestResponse: v.object({ token: v.pipe(v.string(), v.minLength(1)), user, expiresAt: finiteNumber }),
  /** GET /v1/session answer: who the token is, and how many connections the user holds of how many. */
  sessionResponse: v.object({
    user,
    expiresAt: finiteNumber,
    connections: v.object({ open: finiteNumber, max: finiteNumber }),
  }),
  /** GET /v1/ice answer: the same as the `ice` request's ack result. */
  iceResponse: resultSchemas.ice,
  /** GET /v1/info answer: where other devices reach this server. */
  infoResponse: v.object({ node: v.string(), urls: v.array(v.string()) }),
  /** GET /healthz answer (200 or 503); `redis` only on a cluster node. */
  healthResponse: v.object({
    status: v.picklist(['ok', 'unavailable']),
    node: v.string(),
    uptimeSeconds: finiteNumber,
    connections: finiteNumber,
    redis: v.optional(v.picklist(['up', 'down'])),
  }),
  /** Every HTTP error body, upgrade refusals included: a registry code and a text. */
  errorBody: v.object({ code: v.string(), message: v.string() }),
} as const;

/**
 * The part of the answers the SDK reads (the rest it does not depend on): the guest token, and
 * the connection counts that explain a refused upgrade. Every valid full answer passes these.
 */
export const sdkReadSchemas = {
  guestResponse: v.object({ token: httpSchemas.guestResponse.entries.token }),
  sessionResponse: v.object({ connections: httpSchemas.sessionResponse.entries.connections }),
} as const;

export type HttpBodyOf<K extends keyof typeof httpSchemas> = v.InferOutput<(typeof httpSchemas)[K]>;
export type GuestRequest = HttpBodyOf<'guestRequest'>;
export type GuestResponse = HttpBodyOf<'guestResponse'>;
export type SessionResponse = HttpBodyOf<'sessionResponse'>;
export type IceResponse = HttpBodyOf<'iceResponse'>;
export type InfoResponse = HttpBodyOf<'infoResponse'>;
export type HealthResponse = HttpBodyOf<'healthResponse'>;

/** An answer (already parsed JSON) checked against its schema, or the first problem with its field path. */
export function parseHttpBody<K extends keyof typeof httpSchemas>(kind: K, body: unknown): Result<HttpBodyOf<K>, string> {
  const parsed = v.safeParse(httpSchemas[kind], body);
  if (parsed.success) return { ok: true, value: parsed.output as HttpBodyOf<K> };
  const issue = parsed.issues[0];
  const path = issue.path?.map((item) => String(item.key)).join('.') || '(body)';
  return { ok: false, error: `"${path}": ${issue.message}` };
}

/**
 * A POST /v1/guest body (already parsed JSON): the name trimmed, or the error text for a 400
 * INVALID_PARAMETER. A body that is not an object carries no name.
 */
export function parseGuestRequest(body: unknown): Result<GuestRequest, string> {
  const input = isJsonObject(body) ? body : {};
  const parsed = v.safeParse(httpSchemas.guestRequest, input);
  return parsed.success ? { ok: true, value: parsed.output } : { ok: false, error: parsed.issues[0].message };
}
