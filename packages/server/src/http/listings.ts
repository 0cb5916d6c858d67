/**
 * POST /v1/users and POST /v1/groups: getRealtimeUsers / getRealtimeGroups over HTTP with the
 * token, for pages that list before (or without) opening a realtime connection, as Skapi's
 * `get-ws-group` does. The body is the `list_users` / `list_groups` frame without `type` and
 * `id`, validated by the same protocol schema; the answer is the same page. An HTTP caller has
 * joined no group, so `group` is required for users (and a guest limited to its own group,
 * `guestListing: "own-group"`, sees nothing).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeClientMessage, GROUPS_PATH, USERS_PATH, type ErrorCode } from '@switchboard/protocol';
import type { VerifiedToken } from '../auth/tokens.js';
import type { ServerContext, Session } from '../context.js';
import { listGroups } from '../handlers/list-groups.js';
import { listUsers } from '../handlers/list-users.js';
import { RequestError } from '../request-error.js';
import { BodyError, readJsonBody, sendError, sendJson } from './respond.js';

export const LISTING_PATHS = new Set<string>([USERS_PATH, GROUPS_PATH]);

const STATUS: Partial<Record<ErrorCode, number>> = { FORBIDDEN: 403, SERVER_UNAVAILABLE: 503, RATE_LIMITED: 429 };

export async function serveListing(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, pathname: string, token: VerifiedToken): Promise<void> {
  let body: unknown;
  try {
    body = await readJsonBody(req, 4096);
  } catch (err) {
    if (!(err instanceof BodyError)) throw err;
    sendError(res, err.status, err.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_REQUEST', err.message);
    return;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    sendError(res, 400, 'INVALID_REQUEST', 'The body must be a JSON object.');
    return;
  }
  const type = pathname === USERS_PATH ? 'list_users' : 'list_groups';
  const decoded = decodeClientMessage(JSON.stringify({ ...body, type, id: 0 }));
  if (!decoded.ok) {
    ctx.metrics.errors.inc({ code: decoded.error.code });
    sendError(res, 400, decoded.error.code, decoded.error.message);
    return;
  }
  // No connection: a cid no connection has, so "the joined group" is none.
  const session: Session = { cid: 'http', user: token.user, send: () => false };
  try {
    const message = decoded.value;
    const page =
      message.type === 'list_users' ? await listUsers(ctx, session, message) : message.type === 'list_groups' ? await listGroups(ctx, session, message) : null;
    sendJson(res, 200, page);
  } catch (err) {
    if (!(err instanceof RequestError)) throw err;
    ctx.metrics.errors.inc({ code: err.code });
    sendError(res, STATUS[err.code] ?? 400, err.code, err.message);
  }
}
