/**
 * The checks a client goes through before any media: the server answers HTTP, a token is
 * accepted (or a guest token minted), the realtime WebSocket opens with a welcome frame, and
 * GET /v1/ice lists the same ICE servers as the welcome. Each returns what the next one
 * needs, or null when the doctor cannot go on.
 */
import { WebSocket } from 'ws';
import { GUEST_PATH, ICE_PATH, REALTIME_PATH, SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX, parseHttpBody } from '@switchboard/protocol';
import { closeCodeFix } from './close-codes.js';
import { describeBody, endpoint, httpCall, jsonObject, networkProblem, type HttpAnswer, type Problem } from './http.js';
import type { IceServerLike } from './ice-config.js';
import { fmtMs, type CheckContext } from './report.js';

interface Welcome {
  cid: string;
  node: string;
  user: { user_id: string };
  iceServers: IceServerLike[];
  iceExpiresAt: number | null;
}

/** GET /healthz; its Date header tells how far the server's clock is off, which explains expired TURN credentials. */
export async function checkServer(ctx: CheckContext): Promise<{ serverSkewMs: number | null } | null> {
  const { base, insecure, ca, timeoutMs } = ctx;
  try {
    const health = await httpCall(endpoint(base, '/healthz'), { insecure, ca, timeoutMs });
    const body = jsonObject(health.body);
    const date = Date.parse(String(health.headers.date ?? ''));
    const serverSkewMs = Number.isNaN(date) ? null : date - Date.now();
    if (health.status === 200 && body?.['status'] === 'ok') {
      ctx.add({
        id: 'http',
        name: 'Server',
        status: 'ok',
        detail: `${base.origin} answers (node ${String(body['node'])}, ${fmtMs(health.ms)})${ctx.caFile && base.protocol === 'https:' ? `, certificate trusted from ${ctx.caFile}` : ''}`,
        ms: health.ms,
      });
      return { serverSkewMs };
    }
    ctx.add({
      id: 'http',
      name: 'Server',
      status: 'fail',
      detail: `GET /healthz answered HTTP ${health.status} (${describeBody(health)})`,
      fix: 'Is this the Switchboard server (or a proxy that does not pass /healthz)?',
      cause: `http-${health.status}`,
    });
    return null;
  } catch (err) {
    ctx.add({ id: 'http', name: 'Server', status: 'fail', ...networkProblem(err, base.origin, ctx.caFile ?? null) });
    return null;
  }
}

/** Checks the given token (GET /v1/session) or mints a guest one; resolves the token to use from here on. */
export async function checkAuth(ctx: CheckContext, token: string | null): Promise<string | null> {
  const { base, insecure, ca, timeoutMs } = ctx;
  try {
    if (token) {
      const session = await httpCall(endpoint(base, '/v1/session'), { insecure, ca, timeoutMs, headers: { authorization: `Bearer ${token}` } });
      const body = jsonObject(session.body);
      if (session.status !== 200) {
        ctx.add({
          id: 'auth',
          name: 'Auth',
          status: 'fail',
          detail: `the token was refused: HTTP ${session.status} ${describeBody(session)}`,
          fix:
            body?.['code'] === 'TOKEN_EXPIRED'
              ? 'Mint a fresh token (switchboard token --user ID).'
              : "The token must be signed with one of the server's auth.secrets (switchboard token --user ID on the server).",
          cause: String(body?.['code'] ?? `http-${session.status}`),
        });
        return null;
      }
      const answer = parseHttpBody('sessionResponse', body);
      const userId = answer.ok ? answer.value.user.user_id : '';
      ctx.add({ id: 'auth', name: 'Auth', status: 'ok', detail: `token accepted for user "${userId}"` });
      return token;
    }
    const guest = await httpCall(endpoint(base, GUEST_PATH), {
      method: 'POST',
      insecure,
      ca,
      timeoutMs,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'switchboard doctor' }),
    });
    const body = jsonObject(guest.body);
    const answer = guest.status === 200 ? parseHttpBody('guestResponse', body) : null;
    if (!answer?.ok) {
      ctx.add({
        id: 'auth',
        name: 'Auth',
        status: 'fail',
        detail: `no guest token: HTTP ${guest.status} ${describeBody(guest)}`,
        fix: body?.['code'] === 'GUESTS_DISABLED' ? 'Guests are off on this server: pass --token (switchboard token --user ID).' : 'See the server log.',
        cause: String(body?.['code'] ?? `http-${guest.status}`),
      });
      return null;
    }
    ctx.add({ id: 'auth', name: 'Auth', status: 'ok', detail: `guest token for "${answer.value.user.user_id}" (POST ${GUEST_PATH})` });
    return answer.value.token;
  } catch (err) {
    ctx.add({ id: 'auth', name: 'Auth', status: 'fail', ...networkProblem(err, 'auth request', ctx.caFile ?? null) });
    return null;
  }
}

/** Opens the realtime WebSocket as a client would; resolves the ICE servers of the welcome frame. */
export async function checkWebSocket(ctx: CheckContext, token: string): Promise<IceServerLike[] | null> {
  const realtime = await openRealtime(ctx, token);
  if ('welcome' in realtime) {
    ctx.add({
      id: 'websocket',
      name: 'WebSocket',
      status: 'ok',
      detail: `welcome in ${fmtMs(realtime.ms)} (cid ${realtime.welcome.cid}, node ${realtime.welcome.node})`,
      ms: realtime.ms,
    });
    return realtime.welcome.iceServers;
  }
  ctx.add({ id: 'websocket', name: 'WebSocket', status: 'fail', ...realtime });
  return null;
}

/** GET /v1/ice must agree with the welcome frame; resolves the ICE servers to probe (the welcome's first). */
export async function checkIceEndpoint(ctx: CheckContext, token: string, fromWelcome: IceServerLike[] | null): Promise<IceServerLike[] | null> {
  const { base, insecure, ca, timeoutMs } = ctx;
  try {
    const ice = await httpCall(endpoint(base, ICE_PATH), { insecure, ca, timeoutMs, headers: { authorization: `Bearer ${token}` } });
    const answer = ice.status === 200 ? parseHttpBody('iceResponse', jsonObject(ice.body)) : null;
    if (answer?.ok) {
      const fromHttp: IceServerLike[] = answer.value.iceServers;
      const urlsOf = (list: IceServerLike[]) =>
        list
          .flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]))
          .sort()
          .join(' ');
      if (fromWelcome && urlsOf(fromWelcome) !== urlsOf(fromHttp)) {
        ctx.add({
          id: 'ice-endpoint',
          name: 'GET /v1/ice',
          status: 'warn',
          detail: 'lists other ICE URLs than the welcome frame',
          fix: 'Several server nodes with different ice settings? Give every node the same configuration.',
        });
      } else {
        ctx.add({ id: 'ice-endpoint', name: 'GET /v1/ice', status: 'ok', detail: `${fromHttp.length} ICE server entr${fromHttp.length === 1 ? 'y' : 'ies'}` });
      }
      return fromWelcome ?? fromHttp;
    }
    ctx.add({
      id: 'ice-endpoint',
      name: 'GET /v1/ice',
      status: 'fail',
      detail: `HTTP ${ice.status} ${describeBody(ice)}`,
      fix: 'See the server log.',
      cause: `http-${ice.status}`,
    });
  } catch (err) {
    ctx.add({ id: 'ice-endpoint', name: 'GET /v1/ice', status: 'fail', ...networkProblem(err, `GET ${ICE_PATH}`, ctx.caFile ?? null) });
  }
  return fromWelcome;
}

function openRealtime(ctx: CheckContext, token: string): Promise<{ welcome: Welcome; ms: number } | Problem> {
  const { base, insecure, ca, timeoutMs } = ctx;
  const url = endpoint(base, REALTIME_PATH);
  url.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const ws = new WebSocket(url, [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${token}`], {
      rejectUnauthorized: !insecure,
      ...(ca ? { ca } : {}),
      handshakeTimeout: timeoutMs,
    });
    const finish = (value: Parameters<typeof resolve>[0]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(value);
      try {
        if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'doctor done');
        else ws.terminate();
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(
      () =>
        finish({
          detail: `no welcome frame within ${timeoutMs} ms`,
          fix: 'A proxy in front of Switchboard may not forward WebSocket upgrades: pass the Upgrade and Connection headers for /v1/realtime (nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade").',
          cause: 'timeout',
        }),
      timeoutMs,
    );
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const answer: HttpAnswer = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: 0 };
        const proxy = answer.status === 200 || answer.status === 400 || answer.status === 426;
        finish({
          detail: `the upgrade was refused with HTTP ${answer.status} (${describeBody(answer)})`,
          fix:
            proxy && !jsonObject(answer.body)?.['code']
              ? 'Something in front of Switchboard answered instead of it: forward WebSocket upgrades for /v1/realtime.'
              : answer.status === 401
                ? 'The token is not accepted for the WebSocket: see the auth check.'
                : 'See the server log for this connection.',
          cause: `http-${answer.status}`,
        });
      });
    });
    ws.on('message', (data) => {
      const frame = jsonObject(String(data));
      if (frame?.['type'] === 'welcome') finish({ welcome: frame as unknown as Welcome, ms: performance.now() - started });
      else if (frame?.['type'] === 'error')
        finish({
          detail: `error frame before welcome: ${String(frame['code'])} ${String(frame['message'])}`,
          fix: 'See the server log.',
          cause: 'error-frame',
        });
    });
    ws.on('close', (code, reason) =>
      finish({
        detail: `closed before the welcome: ${code}${reason.length ? ` ${reason.toString()}` : ''}`,
        fix: closeCodeFix(code),
        cause: `close-${code}`,
      }),
    );
    ws.on('error', (err) => finish(networkProblem(err, 'WebSocket', ctx.caFile ?? null)));
  });
}
