/**
 * The HTTP side: /healthz, /metrics, POST /v1/guest, GET /v1/session,
 * GET /v1/ice, POST /v1/users and /v1/groups (listings), the browser SDK (/switchboard.js, /switchboard.mjs) and static hosting at `/`. Error bodies are `{code, message}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import {
  GUEST_PATH,
  ICE_PATH,
  REALTIME_PATH,
  parseGuestRequest,
  type GuestResponse,
  type HealthResponse,
  type IceResponse,
  type InfoResponse,
  type SessionResponse,
} from '@switchboard/protocol';
import type { TokenAuthority, VerifiedToken } from '../auth/tokens.js';
import { guestUserId } from '../auth/tokens.js';
import type { ServerContext } from '../context.js';
import { safePath } from '../logger.js';
import { lanAddresses } from '../net.js';
import { RequestError } from '../request-error.js';
import { AddressRateLimiter, addressKey, clientAddress, normalizeAddress } from './client-address.js';
import { applyCors } from './cors.js';
import { BodyError, bearerToken, parseTarget, readJsonBody, sendError, sendJson } from './respond.js';
import { LISTING_PATHS, serveListing } from './listings.js';
import { serveStatic } from './static.js';
import { SDK_PATHS, serveSdk } from './sdk.js';

export const SESSION_PATH = '/v1/session';
export const HEALTH_PATH = '/healthz';
export const METRICS_PATH = '/metrics';
/** Where to reach this server from other devices (the demo shows these as share links). */
export const INFO_PATH = '/v1/info';

export interface HttpDeps {
  ctx: ServerContext;
  auth: TokenAuthority;
  startedAt: number;
  connectionCount(): number;
}

const API_PATHS = new Set([GUEST_PATH, SESSION_PATH, ICE_PATH, HEALTH_PATH, METRICS_PATH, INFO_PATH, REALTIME_PATH, ...LISTING_PATHS]);

export function createRequestHandler(deps: HttpDeps) {
  const { ctx } = deps;
  const limiters: HttpLimiters = {
    guest: new AddressRateLimiter(ctx.config.limits.guestTokensPerMinute),
    listings: new AddressRateLimiter(ctx.config.limits.httpListingsPerMinute),
  };
  return async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const target = parseTarget(req.url);
      if (!target) {
        sendError(res, 400, 'INVALID_REQUEST', 'Malformed request target.');
        return;
      }
      const pathname = target.pathname;
      if (API_PATHS.has(pathname)) {
        if (applyCors(req, res, ctx.config.cors.origins)) return;
        await route(deps, req, res, pathname, limiters);
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendError(res, 405, 'INVALID_REQUEST', `Method ${req.method} is not allowed here.`);
        return;
      }
      // The server's own SDK wins over a file of the same name in the static directory.
      if (SDK_PATHS.has(pathname)) {
        await serveSdk(req, res, pathname);
        return;
      }
      if (ctx.config.staticDir) {
        await serveStatic(req, res, { ...ctx.config, staticDir: ctx.config.staticDir }, pathname);
        return;
      }
      if (pathname === '/') {
        sendJson(res, 200, { name: 'switchboard', realtime: REALTIME_PATH, health: HEALTH_PATH });
        return;
      }
      sendError(res, 404, 'INVALID_REQUEST', `Not found: ${pathname.slice(0, 200)}`);
    } catch (err) {
      if (err instanceof RequestError && err.code === 'SERVER_UNAVAILABLE' && !res.headersSent) {
        sendError(res, 503, 'SERVER_UNAVAILABLE', err.message);
        return;
      }
      ctx.log.error({ path: safePath(req.url), err }, 'request failed');
      if (!res.headersSent) sendError(res, 500, 'INTERNAL', 'Internal server error.');
      else res.destroy();
    }
  };
}

async function authenticate(deps: HttpDeps, req: IncomingMessage, res: ServerResponse): Promise<VerifiedToken | null> {
  const token = bearerToken(req.headers.authorization);
  if (!token) {
    deps.ctx.metrics.errors.inc({ code: 'UNAUTHORIZED' });
    sendError(res, 401, 'UNAUTHORIZED', 'Send "Authorization: Bearer <token>".');
    return null;
  }
  const verified = await deps.auth.verify(token);
  if (!verified.ok) {
    deps.ctx.metrics.errors.inc({ code: verified.error.code });
    sendError(res, verified.error.code === 'SERVER_UNAVAILABLE' ? 503 : 401, verified.error.code, verified.error.message);
    return null;
  }
  return verified.value;
}

/** Per-key token buckets of the HTTP API: guest tokens per address, listings per user. */
interface HttpLimiters {
  guest: AddressRateLimiter;
  listings: AddressRateLimiter;
}

async function route(deps: HttpDeps, req: IncomingMessage, res: ServerResponse, pathname: string, limiters: HttpLimiters): Promise<void> {
  const { ctx } = deps;
  const method = req.method ?? 'GET';
  const allow = (expected: string) => {
    if (method === expected || (expected === 'GET' && method === 'HEAD')) return true;
    sendError(res, 405, 'INVALID_REQUEST', `Use ${expected} ${pathname}.`);
    return false;
  };
  switch (pathname) {
    case HEALTH_PATH: {
      if (!allow('GET')) return;
      // Without Redis a cluster node answers SERVER_UNAVAILABLE to nearly everything: 503 takes it
      // out of a balancer's rotation (its open sockets stay; see docs/cluster.md).
      const redisUp = ctx.cluster ? ctx.cluster.up() : true;
      sendJson(res, redisUp ? 200 : 503, {
        status: redisUp ? 'ok' : 'unavailable',
        node: ctx.node,
        uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
        connections: deps.connectionCount(),
        ...(ctx.cluster ? { redis: redisUp ? 'up' : 'down' } : {}),
      } satisfies HealthResponse);
      return;
    }
    case INFO_PATH:
      if (allow('GET')) sendJson(res, 200, { node: ctx.node, urls: shareUrls(ctx, req) } satisfies InfoResponse);
      return;
    case METRICS_PATH: {
      if (!allow('GET')) return;
      const body = await ctx.metrics.registry.metrics();
      res.writeHead(200, { 'Content-Type': ctx.metrics.registry.contentType, 'Cache-Control': 'no-store' });
      res.end(body);
      return;
    }
    case GUEST_PATH:
      if (allow('POST')) await guest(deps, req, res, limiters.guest);
      return;
    case SESSION_PATH: {
      if (!allow('GET')) return;
      const session = await authenticate(deps, req, res);
      if (!session) return;
      const open = await ctx.store.countUserConnections(session.user.user_id);
      sendJson(res, 200, {
        user: session.user,
        expiresAt: session.expiresAt,
        connections: { open, max: ctx.config.limits.maxConnectionsPerUser },
      } satisfies SessionResponse);
      return;
    }
    case ICE_PATH: {
      if (!allow('GET')) return;
      const session = await authenticate(deps, req, res);
      if (session) sendJson(res, 200, ctx.ice.forUser(session.user.user_id, undefined, req.socket.localAddress) satisfies IceResponse);
      return;
    }
    default:
      if (LISTING_PATHS.has(pathname)) {
        if (!allow('POST')) return;
        const session = await authenticate(deps, req, res);
        if (!session) return;
        // Over HTTP the realtime connection's token bucket does not apply: the same budget per user here.
        const retryAfter = limiters.listings.take(session.user.user_id);
        if (retryAfter > 0) {
          ctx.metrics.errors.inc({ code: 'RATE_LIMITED' });
          const perMinute = ctx.config.limits.httpListingsPerMinute;
          sendJson(
            res,
            429,
            { code: 'RATE_LIMITED', message: `More than ${perMinute} listings per minute over HTTP; retry in ${retryAfter} s.` },
            { 'Retry-After': String(retryAfter) },
          );
          return;
        }
        await serveListing(ctx, req, res, pathname, session);
        return;
      }
      // REALTIME_PATH without an upgrade.
      sendError(res, 426, 'INVALID_REQUEST', `${REALTIME_PATH} is a WebSocket endpoint (subprotocol switchboard.v1).`);
  }
}

async function guest(deps: HttpDeps, req: IncomingMessage, res: ServerResponse, limiter: AddressRateLimiter): Promise<void> {
  const { ctx } = deps;
  if (!ctx.config.guests) {
    ctx.metrics.errors.inc({ code: 'GUESTS_DISABLED' });
    sendError(res, 403, 'GUESTS_DISABLED', 'Guest access is turned off on this server.');
    return;
  }
  const retryAfter = limiter.take(addressKey(clientAddress(req, ctx.config.trustProxy)));
  if (retryAfter > 0) {
    ctx.metrics.errors.inc({ code: 'RATE_LIMITED' });
    const perMinute = ctx.config.limits.guestTokensPerMinute;
    sendJson(
      res,
      429,
      { code: 'RATE_LIMITED', message: `More than ${perMinute} guest tokens per minute from this address; retry in ${retryAfter} s.` },
      { 'Retry-After': String(retryAfter) },
    );
    return;
  }
  let body: unknown;
  try {
    body = await readJsonBody(req, 4096);
  } catch (err) {
    if (!(err instanceof BodyError)) throw err;
    sendError(res, err.status, err.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_REQUEST', err.message);
    return;
  }
  // The protocol's guest request schema: `name` a string (trimmed, at most 64 characters) or null.
  const request = parseGuestRequest(body);
  if (!request.ok) {
    sendError(res, 400, 'INVALID_PARAMETER', request.error);
    return;
  }
  const name = request.value.name ?? '';
  const user = { user_id: guestUserId(), name: name === '' ? null : name };
  const { token, expiresAt } = await deps.auth.sign({
    user_id: user.user_id,
    name: user.name,
    ttlSeconds: ctx.config.auth.guestTtlSeconds,
    guest: true,
  });
  ctx.log.info({ user: user.user_id }, 'guest token issued');
  sendJson(res, 200, { token, user, expiresAt } satisfies GuestResponse);
}

/**
 * The URLs other devices can open. With `publicUrl` set, that one alone. Otherwise built
 * from what this server knows, never from the Host header (a forged Host must not turn
 * into a link the demo offers to share): the configured host name, else the local
 * address the request arrived on, then every LAN address when listening on all
 * interfaces (a phone on the same network joins through these).
 */
function shareUrls(ctx: ServerContext, req: IncomingMessage): string[] {
  if (ctx.config.publicUrl) return [new URL(ctx.config.publicUrl).href];
  const scheme = 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http';
  const port = req.socket.localPort;
  if (port === undefined) return [];
  const wildcard = ctx.config.host === '0.0.0.0' || ctx.config.host === '::';
  const local = normalizeAddress(req.socket.localAddress);
  const first = !wildcard && isIP(ctx.config.host) === 0 ? ctx.config.host : local;
  const hosts = [first, ...(wildcard ? lanAddresses() : [])];
  const urls = hosts.flatMap((h) => (h ? [`${scheme}://${isIP(h) === 6 ? `[${h}]` : h}:${port}/`] : []));
  return [...new Set(urls)];
}
