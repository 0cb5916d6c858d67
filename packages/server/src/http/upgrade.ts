/**
 * The realtime upgrade at /v1/realtime. Authentication happens BEFORE the
 * socket exists: failures are plain HTTP responses with a JSON body.
 *
 * Token sources, in order: subprotocol `bearer.<jwt>` (offered next to
 * `switchboard.v1`; browsers cannot set headers), `?token=`, `Authorization: Bearer`.
 * When subprotocols are offered, `switchboard.v1` must be among them and is the
 * only one the server ever selects (the token protocol is never echoed).
 *
 * Connections per user: over `limits.maxConnectionsPerUser` the upgrade is
 * rejected with HTTP 429 `{code:'TOO_MANY_CONNECTIONS'}` (no socket is created).
 * Browsers cannot read that status, so GET /v1/session reports
 * `connections: {open, max}` for the SDK to explain the failure.
 *
 * Before any token work (cheap refusals first): the Origin must pass
 * `cors.origins` (403 FORBIDDEN), and the client address (see client-address.ts)
 * may hold at most `limits.maxConnectionsPerAddress` sockets on this node, counting
 * upgrades still in progress (429 TOO_MANY_CONNECTIONS).
 *
 * Resume (`?resume=<token>&lastSeq=<n>`, docs/adr/0008-resume.md): the token is verified here
 * (it must be this user's); the claim itself happens as the connection starts, so the welcome
 * says whether it worked. Never a reason to refuse the upgrade. A connection resuming a cid
 * the store still has does not count twice against `maxConnectionsPerUser`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CID_PREFIX, REALTIME_PATH, SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX, type ErrorCode } from '@switchboard/protocol';
import type { WebSocket, WebSocketServer } from 'ws';
import { randomId } from '../auth/random-id.js';
import type { TokenAuthority, VerifiedToken } from '../auth/tokens.js';
import type { ResumeAttempt } from '../connection/resume-start.js';
import type { ServerContext } from '../context.js';
import { parseResumeRequest } from '../resume/index.js';
import { safePath } from '../logger.js';
import { AddressCounter, addressKey, clientAddress } from './client-address.js';
import { originAllowed } from './cors.js';
import { bearerToken, parseTarget, rejectUpgrade } from './respond.js';

export interface UpgradeDeps {
  ctx: ServerContext;
  auth: TokenAuthority;
  wss: WebSocketServer;
  isShuttingDown(): boolean;
  /** `socket`: the upgraded TCP/TLS socket under `ws` (the Connection corks it to batch its writes). */
  onConnection(ws: WebSocket, socket: Duplex, cid: string, session: VerifiedToken, resume: ResumeAttempt | null): void;
}

export function parseProtocols(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

export const newCid = (): string => `${CID_PREFIX}${randomId(12)}`;

/** A socket's address slot (its key), held until the socket closes; set to undefined once released. */
const ADDRESS_SLOT = Symbol('switchboard.addressSlot');
type SlotHolder = Duplex & { [ADDRESS_SLOT]?: string | undefined };

/** Shared listeners (`this` is the socket): nothing is allocated per socket for them. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

export function createUpgradeHandler(deps: UpgradeDeps) {
  const { ctx, auth, wss } = deps;
  /** Upgrades between the connection-count check and the store knowing the connection. */
  const pending = new Map<string, number>();
  const perAddress = new AddressCounter(ctx.config.limits.maxConnectionsPerAddress);
  /** Frees the socket's address slot once: on close, or at once when refused (a half-open peer may never send the close). */
  function releaseAddress(this: SlotHolder): void {
    const key = this[ADDRESS_SLOT];
    if (key === undefined) return;
    this[ADDRESS_SLOT] = undefined;
    perAddress.release(key);
  }
  let proxyHintLogged = false;

  const reject = (socket: Duplex, req: IncomingMessage, status: number, code: ErrorCode, message: string) => {
    releaseAddress.call(socket);
    ctx.metrics.errors.inc({ code });
    ctx.log.info({ path: safePath(req.url), status, code }, 'upgrade rejected');
    rejectUpgrade(socket, status, code, message);
  };

  return async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', destroyOnError);
    const url = parseTarget(req.url);
    if (!url) return reject(socket, req, 400, 'INVALID_REQUEST', 'Malformed request target.');
    if (url.pathname !== REALTIME_PATH) {
      return reject(socket, req, 404, 'INVALID_REQUEST', `No WebSocket endpoint at ${url.pathname.slice(0, 100)}; use ${REALTIME_PATH}.`);
    }
    if (deps.isShuttingDown()) return reject(socket, req, 503, 'SERVER_UNAVAILABLE', 'The server is shutting down.');
    if (!originAllowed(req, ctx.config.cors.origins)) {
      return reject(socket, req, 403, 'FORBIDDEN', `Origin ${JSON.stringify(req.headers.origin?.slice(0, 200))} is not allowed (cors.origins).`);
    }
    const address = clientAddress(req, ctx.config.trustProxy);
    const key = addressKey(address);
    if (!perAddress.take(key)) {
      const max = ctx.config.limits.maxConnectionsPerAddress;
      // Behind a proxy without trustProxy every client shares the proxy's address: say so in the log.
      if (!proxyHintLogged && req.headers['x-forwarded-for'] !== undefined && ctx.config.trustProxy === 0) {
        proxyHintLogged = true;
        ctx.log.warn({ address }, 'per-address connection limit reached for a request with X-Forwarded-For; behind a proxy, set trustProxy');
      }
      return reject(socket, req, 429, 'TOO_MANY_CONNECTIONS', `Address ${address} already has ${max} open connections.`);
    }
    // Held for the socket's life (released on close, or at once by a refusal).
    (socket as SlotHolder)[ADDRESS_SLOT] = key;
    socket.on('close', releaseAddress);

    const offered = parseProtocols(req.headers['sec-websocket-protocol']);
    if (offered.length > 0 && !offered.includes(SUBPROTOCOL)) {
      return reject(socket, req, 400, 'INVALID_REQUEST', `Subprotocol "${SUBPROTOCOL}" is required.`);
    }
    const fromProtocol = offered.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX))?.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
    const token = fromProtocol || url.searchParams.get('token') || bearerToken(req.headers.authorization);
    if (!token) {
      return reject(socket, req, 401, 'UNAUTHORIZED', `A token is required: subprotocol "${TOKEN_SUBPROTOCOL_PREFIX}<jwt>", ?token= or Authorization: Bearer.`);
    }
    const verified = await auth.verify(token);
    if (!verified.ok) {
      return reject(socket, req, verified.error.code === 'SERVER_UNAVAILABLE' ? 503 : 401, verified.error.code, verified.error.message);
    }

    const userId = verified.value.user.user_id;
    const asked = parseResumeRequest(url.searchParams);
    const claims = asked && ctx.resume ? ctx.resume.tokens.verify(asked.token, userId) : null;
    const resume: ResumeAttempt | null = asked ? { claims, lastSeq: asked.lastSeq } : null;
    const inFlight = pending.get(userId) ?? 0;
    pending.set(userId, inFlight + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      // Nothing of this upgrade (its closures, the verified token) stays attached to a socket that lives on.
      socket.removeListener('close', release);
      const n = (pending.get(userId) ?? 1) - 1;
      if (n <= 0) pending.delete(userId);
      else pending.set(userId, n);
    };
    try {
      let open = await ctx.store.countUserConnections(userId);
      // The connection it resumes is counted already (away, or a socket about to be dropped).
      if (claims && (await ctx.store.getConnection(claims.cid))?.user.user_id === userId) open -= 1;
      const max = ctx.config.limits.maxConnectionsPerUser;
      if (open + inFlight >= max) {
        release();
        return reject(socket, req, 429, 'TOO_MANY_CONNECTIONS', `User "${userId}" already has ${max} open connections.`);
      }
    } catch (err) {
      release();
      // An unreachable Redis is logged once by the cluster (health.ts); anything else is a bug.
      if ((err as { code?: unknown }).code !== 'SERVER_UNAVAILABLE') ctx.log.error({ err }, 'connection count failed');
      return reject(socket, req, 503, 'SERVER_UNAVAILABLE', 'State store unavailable.');
    }
    // ws answers some bad handshakes itself without calling back; the slot is freed on close then.
    socket.once('close', release);
    if (socket.destroyed || deps.isShuttingDown()) {
      release();
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.removeListener('error', destroyOnError); // ws handles the socket's errors from here on
      try {
        deps.onConnection(ws, socket, newCid(), verified.value, resume);
      } finally {
        release();
      }
    });
  };
}
