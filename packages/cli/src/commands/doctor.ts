/**
 * `switchboard doctor <url>`: checks a Switchboard deployment from where it runs, the way a
 * client would see it: HTTP, auth (a token or a guest), the realtime WebSocket and its
 * welcome, the ICE servers the server hands out, every STUN server (Binding), every TURN URL
 * (Allocate with the minted REST credentials over UDP, TCP or TLS), relay-only gathering with
 * a real WebRTC stack (node-datachannel), and data through the relay between two relay-only
 * peers. Prints a plain report that says what to fix; exits 1 when a check failed.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { GUEST_PATH, ICE_PATH, REALTIME_PATH, SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '@switchboard/protocol';
import { parseArgsError, UsageError } from '../errors.js';
import { isTurn, parseIceUrl, transportLabel, type IceUrl } from './ice-urls.js';
import { gatherRelayCandidates, loadNativeStack, relayLoop, type Credentials, type NativeStack } from './relay-probe.js';
import { ProbeError, stunBinding, turnAllocate, type Address } from './stun-client.js';

export const DOCTOR_USAGE = `Usage: switchboard doctor <url> [options]

Checks a Switchboard server as a client sees it: HTTP, auth, the realtime WebSocket, the ICE
servers it hands out, STUN reachability, a TURN allocation with the minted credentials (UDP,
TCP, TLS), relay-only gathering with node-datachannel and data through the relay.

  <url>               The server, e.g. https://switchboard.example.com (ws:// and wss:// work too)

Options:
  --token T           Authenticate with this JWT (default: a guest token from POST /v1/guest)
  --insecure          Accept any TLS certificate (self-signed servers, turns: without a valid cert)
  --timeout MS        Time limit per check (default 5000)
  --allow-no-turn     A server without TURN is a warning, not a failure (LAN-only deployments)
  --json              Print the report as JSON
  -h, --help          Show this help

Exit code: 0 when every check passed (warnings allowed), 1 when one failed, 2 on bad usage.
`;

const OPTIONS = {
  token: { type: 'string' },
  insecure: { type: 'boolean' },
  timeout: { type: 'string' },
  'allow-no-turn': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type Status = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  /** Stable id, e.g. "http", "auth", "websocket", "ice", "stun", "turn", "turn-native", "relay". */
  id: string;
  name: string;
  status: Status;
  detail: string;
  /** What to do about a warning or failure. */
  fix?: string;
  /** Measured duration, when it means something. */
  ms?: number;
  /** Machine-readable cause for failures, e.g. "unreachable", "credentials-expired", "credentials-rejected". */
  cause?: string;
}

export interface DoctorReport {
  url: string;
  ok: boolean;
  checks: Check[];
  failures: number;
  warnings: number;
}

export interface DoctorOptions {
  url: string;
  token?: string | null;
  insecure?: boolean;
  timeoutMs?: number;
  allowNoTurn?: boolean;
  /** Local address for node-datachannel's sockets (tests on loopback). */
  bindAddress?: string;
  /** Progress, one check at a time (the CLI prints as it goes). */
  onCheck?: (check: Check) => void;
}

interface IceServerLike {
  urls: string | string[];
  username?: string;
  credential?: string;
}

interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** The server's base URL (http/https) from what the user typed. */
export function baseUrl(input: string): URL {
  let text = input.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `https://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`"${input}" is not a URL (e.g. https://switchboard.example.com).`, 'doctor');
  }
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`"${input}": expected an http(s):// or ws(s):// URL.`, 'doctor');
  }
  if (url.pathname.endsWith(REALTIME_PATH)) url.pathname = url.pathname.slice(0, -REALTIME_PATH.length);
  url.pathname = url.pathname.replace(/\/+$/, '');
  url.search = '';
  url.hash = '';
  return url;
}

function endpoint(base: URL, path: string): URL {
  const url = new URL(base.href);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}${path}`;
  return url;
}

function httpCall(url: URL, options: { method?: string; headers?: Record<string, string>; body?: string; insecure: boolean; timeoutMs: number }): Promise<HttpAnswer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, {
      method: options.method ?? 'GET',
      headers: { accept: 'application/json', ...options.headers },
      rejectUnauthorized: !options.insecure,
      timeout: options.timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(options.body);
  });
}

function json(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** `{code, message}` error bodies, or the start of whatever came back. */
function describeBody(answer: HttpAnswer): string {
  const body = json(answer.body);
  if (body && typeof body['code'] === 'string') return `${body['code']}: ${String(body['message'] ?? '')}`;
  return answer.body.slice(0, 120).trim() || '(empty body)';
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_NOT_YET_VALID',
]);

function networkProblem(err: unknown, what: string): { detail: string; fix: string; cause: string } {
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? '';
  if (TLS_CODES.has(code) || /certificate/i.test(e.message)) {
    return {
      detail: `TLS: ${e.message} (${code})`,
      fix: 'Browsers will refuse this certificate too: serve a certificate from a public CA (switchboard serve --cert/--key or a proxy in front). Run with --insecure to check the rest anyway.',
      cause: 'tls',
    };
  }
  if (code === 'ECONNREFUSED') return { detail: `${what}: connection refused`, fix: 'Is the server running, on this host and port? (switchboard serve --port)', cause: 'unreachable' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { detail: `${what}: the host name does not resolve (${code})`, fix: 'Check the DNS record of the server.', cause: 'dns' };
  if (code === 'ETIMEDOUT') return { detail: `${what}: ${e.message}`, fix: 'A firewall may drop the connection; check the port is open.', cause: 'timeout' };
  if (code === 'EPROTO' || /wrong version number|packet length too long/i.test(e.message)) {
    return { detail: `${what}: ${e.message}`, fix: 'The port speaks plain HTTP: use http:// (or turn TLS on).', cause: 'tls' };
  }
  return { detail: `${what}: ${e.message}${code ? ` (${code})` : ''}`, fix: 'Check the URL and that the server is reachable from here.', cause: 'unreachable' };
}

interface Welcome {
  cid: string;
  node: string;
  user: { user_id: string };
  iceServers: IceServerLike[];
  iceExpiresAt: number | null;
}

function openRealtime(base: URL, token: string, insecure: boolean, timeoutMs: number): Promise<{ welcome: Welcome; ms: number } | { error: string; fix: string; cause: string }> {
  const url = endpoint(base, REALTIME_PATH);
  url.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const ws = new WebSocket(url, [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${token}`], { rejectUnauthorized: !insecure, handshakeTimeout: timeoutMs });
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
    const timer = setTimeout(() => finish({
      error: `no welcome frame within ${timeoutMs} ms`,
      fix: 'A proxy in front of Switchboard may not forward WebSocket upgrades: pass the Upgrade and Connection headers for /v1/realtime (nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade").',
      cause: 'timeout',
    }), timeoutMs);
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const answer: HttpAnswer = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: 0 };
        const proxy = answer.status === 200 || answer.status === 400 || answer.status === 426;
        finish({
          error: `the upgrade was refused with HTTP ${answer.status} (${describeBody(answer)})`,
          fix: proxy && !json(answer.body)?.['code']
            ? 'Something in front of Switchboard answered instead of it: forward WebSocket upgrades for /v1/realtime.'
            : answer.status === 401 ? 'The token is not accepted for the WebSocket: see the auth check.' : 'See the server log for this connection.',
          cause: `http-${answer.status}`,
        });
      });
    });
    ws.on('message', (data) => {
      const frame = json(String(data));
      if (frame?.['type'] === 'welcome') finish({ welcome: frame as unknown as Welcome, ms: performance.now() - started });
      else if (frame?.['type'] === 'error') finish({ error: `error frame before welcome: ${String(frame['code'])} ${String(frame['message'])}`, fix: 'See the server log.', cause: 'error-frame' });
    });
    ws.on('close', (code, reason) => finish({
      error: `closed before the welcome: ${code}${reason.length ? ` ${reason.toString()}` : ''}`,
      fix: code === 4003 || code === 4004 ? 'Too many connections for this user, or the token was refused.' : 'See the server log.',
      cause: `close-${code}`,
    }));
    ws.on('error', (err) => {
      const p = networkProblem(err, 'WebSocket');
      finish({ error: p.detail, fix: p.fix, cause: p.cause });
    });
  });
}

const fmtMs = (ms: number) => (ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`);
const fmtAddr = (a: Address | null) => (a ? (a.family === 6 ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`) : '?');

function fmtDuration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(s < 36000 ? 1 : 0)} h`;
}

function isPrivateIp(address: string): boolean {
  if (address.includes(':')) return /^(::1$|f[cd]|fe[89ab])/i.test(address);
  const [a, b] = address.split('.').map(Number) as [number, number];
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254);
}

interface TurnEntry {
  url: IceUrl;
  creds: Credentials | null;
}

/** Runs every check; never throws for a failed check (only for bad options). */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const base = baseUrl(options.url);
  const insecure = options.insecure ?? false;
  const timeoutMs = options.timeoutMs ?? 5000;
  const checks: Check[] = [];
  const add = (check: Check) => {
    checks.push(check);
    options.onCheck?.(check);
    return check;
  };
  const report = (): DoctorReport => {
    const failures = checks.filter((c) => c.status === 'fail').length;
    return { url: base.href, ok: failures === 0, checks, failures, warnings: checks.filter((c) => c.status === 'warn').length };
  };

  // 1. HTTP
  let serverSkewMs: number | null = null;
  try {
    const health = await httpCall(endpoint(base, '/healthz'), { insecure, timeoutMs });
    const body = json(health.body);
    const date = Date.parse(String(health.headers.date ?? ''));
    if (!Number.isNaN(date)) serverSkewMs = date - Date.now();
    if (health.status === 200 && body?.['status'] === 'ok') {
      add({ id: 'http', name: 'Server', status: 'ok', detail: `${base.origin} answers (node ${String(body['node'])}, ${fmtMs(health.ms)})`, ms: health.ms });
    } else {
      add({ id: 'http', name: 'Server', status: 'fail', detail: `GET /healthz answered HTTP ${health.status} (${describeBody(health)})`, fix: 'Is this the Switchboard server (or a proxy that does not pass /healthz)?', cause: `http-${health.status}` });
      return report();
    }
  } catch (err) {
    const p = networkProblem(err, base.origin);
    add({ id: 'http', name: 'Server', status: 'fail', detail: p.detail, fix: p.fix, cause: p.cause });
    return report();
  }

  // 2. Auth
  let token = options.token ?? null;
  let userId: string | null = null;
  try {
    if (token) {
      const session = await httpCall(endpoint(base, '/v1/session'), { insecure, timeoutMs, headers: { authorization: `Bearer ${token}` } });
      const body = json(session.body);
      if (session.status !== 200) {
        add({
          id: 'auth', name: 'Auth', status: 'fail', detail: `the token was refused: HTTP ${session.status} ${describeBody(session)}`,
          fix: body?.['code'] === 'TOKEN_EXPIRED' ? 'Mint a fresh token (switchboard token --user ID).' : 'The token must be signed with one of the server\'s auth.secrets (switchboard token --user ID on the server).',
          cause: String(body?.['code'] ?? `http-${session.status}`),
        });
        return report();
      }
      userId = String((body?.['user'] as { user_id?: unknown } | undefined)?.user_id ?? '');
      add({ id: 'auth', name: 'Auth', status: 'ok', detail: `token accepted for user "${userId}"` });
    } else {
      const guest = await httpCall(endpoint(base, GUEST_PATH), { method: 'POST', insecure, timeoutMs, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'switchboard doctor' }) });
      const body = json(guest.body);
      if (guest.status !== 200 || typeof body?.['token'] !== 'string') {
        add({
          id: 'auth', name: 'Auth', status: 'fail', detail: `no guest token: HTTP ${guest.status} ${describeBody(guest)}`,
          fix: body?.['code'] === 'GUESTS_DISABLED' ? 'Guests are off on this server: pass --token (switchboard token --user ID).' : 'See the server log.',
          cause: String(body?.['code'] ?? `http-${guest.status}`),
        });
        return report();
      }
      token = body['token'];
      userId = String((body['user'] as { user_id?: unknown } | undefined)?.user_id ?? '');
      add({ id: 'auth', name: 'Auth', status: 'ok', detail: `guest token for "${userId}" (POST ${GUEST_PATH})` });
    }
  } catch (err) {
    const p = networkProblem(err, 'auth request');
    add({ id: 'auth', name: 'Auth', status: 'fail', detail: p.detail, fix: p.fix, cause: p.cause });
    return report();
  }

  // 3. WebSocket + welcome; 4. GET /v1/ice
  let iceServers: IceServerLike[] | null = null;
  const realtime = await openRealtime(base, token, insecure, timeoutMs);
  if ('welcome' in realtime) {
    iceServers = realtime.welcome.iceServers;
    add({ id: 'websocket', name: 'WebSocket', status: 'ok', detail: `welcome in ${fmtMs(realtime.ms)} (cid ${realtime.welcome.cid}, node ${realtime.welcome.node})`, ms: realtime.ms });
  } else {
    add({ id: 'websocket', name: 'WebSocket', status: 'fail', detail: realtime.error, fix: realtime.fix, cause: realtime.cause });
  }
  try {
    const ice = await httpCall(endpoint(base, ICE_PATH), { insecure, timeoutMs, headers: { authorization: `Bearer ${token}` } });
    const body = json(ice.body);
    if (ice.status === 200 && Array.isArray(body?.['iceServers'])) {
      const fromHttp = body['iceServers'] as IceServerLike[];
      const urlsOf = (list: IceServerLike[]) => list.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls])).sort().join(' ');
      if (iceServers && urlsOf(iceServers) !== urlsOf(fromHttp)) {
        add({ id: 'ice-endpoint', name: 'GET /v1/ice', status: 'warn', detail: 'lists other ICE URLs than the welcome frame', fix: 'Several server nodes with different ice settings? Give every node the same configuration.' });
      } else {
        add({ id: 'ice-endpoint', name: 'GET /v1/ice', status: 'ok', detail: `${fromHttp.length} ICE server entr${fromHttp.length === 1 ? 'y' : 'ies'}` });
      }
      iceServers ??= fromHttp;
    } else {
      add({ id: 'ice-endpoint', name: 'GET /v1/ice', status: 'fail', detail: `HTTP ${ice.status} ${describeBody(ice)}`, fix: 'See the server log.', cause: `http-${ice.status}` });
    }
  } catch (err) {
    const p = networkProblem(err, `GET ${ICE_PATH}`);
    add({ id: 'ice-endpoint', name: 'GET /v1/ice', status: 'fail', detail: p.detail, fix: p.fix, cause: p.cause });
  }
  if (!iceServers) return report();

  // 5. The ICE configuration
  const stun: IceUrl[] = [];
  const turn: TurnEntry[] = [];
  for (const server of iceServers) {
    for (const raw of Array.isArray(server.urls) ? server.urls : [server.urls]) {
      let url: IceUrl;
      try {
        url = parseIceUrl(raw);
      } catch (err) {
        add({ id: 'ice', name: 'ICE servers', status: 'fail', detail: (err as Error).message, fix: 'Fix ice.stun / ice.turn in the server configuration.', cause: 'bad-url' });
        continue;
      }
      if (isTurn(url)) {
        turn.push({ url, creds: server.username !== undefined && server.credential !== undefined ? { username: server.username, credential: server.credential } : null });
      } else {
        stun.push(url);
      }
    }
  }
  const transports = [...new Set(turn.map((t) => transportLabel(t.url)))];
  if (turn.length === 0) {
    add({
      id: 'ice', name: 'ICE servers', status: options.allowNoTurn ? 'warn' : 'fail',
      detail: `no TURN server configured (${stun.length} STUN). Calls between peers without a direct path (mobile networks, symmetric NATs, firewalls) will fail with RTC_ICE_FAILED`,
      fix: 'Run coturn beside Switchboard and set ice.turn and ice.turnSecrets (switchboard turn-config prints a matching coturn configuration; see docs/turn.md).',
      cause: 'no-turn',
    });
  } else {
    const missing = (['UDP', 'TCP', 'TLS'] as const).filter((t) => !transports.includes(t));
    add({
      id: 'ice', name: 'ICE servers', status: missing.length > 0 ? 'warn' : 'ok',
      detail: `${stun.length} STUN, ${turn.length} TURN URL${turn.length === 1 ? '' : 's'} (${transports.join(', ')})`,
      ...(missing.length > 0 ? {
        fix: `No TURN over ${missing.join('/')}: networks that only let ${missing.includes('TLS') ? 'HTTPS (TCP 443) ' : 'TCP '}out cannot relay. Add ${missing.includes('TCP') ? '"turn:HOST:3478?transport=tcp" ' : ''}${missing.includes('TLS') ? '"turns:HOST:443?transport=tcp" ' : ''}to ice.turn.`,
      } : {}),
    });
  }
  if (stun.length === 0 && turn.length > 0) {
    add({ id: 'ice', name: 'STUN', status: 'ok', detail: 'no STUN URL: server-reflexive candidates come from the TURN server (it answers Binding requests too)' });
  }

  // Credentials
  const now = Date.now();
  const credentialsOf = turn.map((t) => t.creds).filter((c): c is Credentials => c !== null);
  if (turn.length > 0) {
    const first = credentialsOf[0];
    const match = first ? /^(\d+):(.+)$/.exec(first.username) : null;
    if (!first) {
      add({ id: 'credentials', name: 'TURN credentials', status: 'fail', detail: 'the TURN entries carry no username/credential', fix: 'Set ice.turnSecrets (the coturn static-auth-secret).', cause: 'no-credentials' });
    } else if (!match) {
      add({ id: 'credentials', name: 'TURN credentials', status: 'warn', detail: `username "${first.username}" is not a REST username "<expiry>:<user_id>"` });
    } else {
      const expiresAt = Number(match[1]) * 1000;
      const left = (expiresAt - now) / 1000;
      const skew = serverSkewMs !== null && Math.abs(serverSkewMs) > 30_000
        ? ` The server's clock is ${fmtDuration(serverSkewMs / 1000)} ${serverSkewMs < 0 ? 'behind' : 'ahead of'} this machine's (HTTP Date header).`
        : '';
      if (left <= 0) {
        add({
          id: 'credentials', name: 'TURN credentials', status: 'fail',
          detail: `the server mints credentials that are already expired: "${first.username}" expired ${fmtDuration(-left)} ago (${new Date(expiresAt).toISOString()}).${skew}`,
          fix: 'Synchronise the clocks of the Switchboard and coturn hosts (NTP) and check ice.turnTtlSeconds.', cause: 'credentials-expired',
        });
      } else {
        add({
          id: 'credentials', name: 'TURN credentials', status: skew ? 'warn' : 'ok',
          detail: `REST username for "${match[2]}", valid for ${fmtDuration(left)}.${skew}`,
          ...(skew ? { fix: 'Synchronise the clocks (NTP): coturn refuses credentials that look expired by its own clock.' } : {}),
        });
      }
    }
  }

  // 6. STUN
  for (const url of stun) {
    try {
      const result = await stunBinding(url, { timeoutMs, insecureTls: insecure });
      add({ id: 'stun', name: `STUN ${url.url}`, status: 'ok', detail: `reachable, sees this machine as ${fmtAddr(result.mapped)} (${fmtMs(result.rttMs)})`, ms: result.rttMs });
    } catch (err) {
      add(unreachableCheck('stun', `STUN ${url.url}`, url, err));
    }
  }

  // 7. TURN Allocate per URL
  const allocated: TurnEntry[] = [];
  for (const entry of turn) {
    const name = `TURN ${entry.url.url}`;
    if (!entry.creds) continue;
    try {
      const result = await turnAllocate(entry.url, entry.creds, { timeoutMs, insecureTls: insecure });
      if (result.ok) {
        await result.release();
        allocated.push(entry);
        const privateRelay = result.relayed && isPrivateIp(result.relayed.address) && !isPrivateIp(entry.url.host) && !/^localhost$/i.test(entry.url.host);
        add({
          id: 'turn', name, status: privateRelay ? 'warn' : 'ok',
          detail: `allocation over ${transportLabel(entry.url)}: relay address ${fmtAddr(result.relayed)}, realm "${result.realm}" (${fmtMs(result.rttMs)})`,
          ms: result.rttMs,
          ...(privateRelay ? { fix: 'The relay address is private: coturn is behind NAT. Set external-ip=<public IP>/<private IP> in turnserver.conf.' } : {}),
        });
      } else if (result.error.code === 401 && result.authenticated) {
        add(refusedCheck(name, entry.creds, now, serverSkewMs));
      } else {
        add({
          id: 'turn', name, status: 'fail',
          detail: `the TURN server answered ${result.error.code} ${result.error.reason}`,
          fix: result.error.code === 401 ? 'The server does not offer long-term (REST) authentication: run coturn with use-auth-secret.' : result.error.code === 486 ? 'Allocation quota reached (user-quota / total-quota in turnserver.conf).' : 'See the coturn log.',
          cause: `turn-${result.error.code}`,
        });
      }
    } catch (err) {
      add(unreachableCheck('turn', name, entry.url, err));
    }
  }

  // 8. A real WebRTC stack: relay-only gathering (UDP TURN), then data through the relay.
  const udp = allocated.filter((e) => transportLabel(e.url) === 'UDP');
  if (turn.length > 0) {
    const ndc: NativeStack | null = await loadNativeStack();
    if (!ndc) {
      add({ id: 'turn-native', name: 'WebRTC relay', status: 'skip', detail: 'node-datachannel is not installed here (npm i node-datachannel) : relay checks with a WebRTC stack skipped' });
    } else if (udp.length === 0) {
      add({
        id: 'turn-native', name: 'WebRTC relay', status: 'skip',
        detail: allocated.length > 0
          ? 'no UDP TURN URL allocated; node-datachannel relays over UDP only, so TCP/TLS were checked by Allocate alone'
          : 'skipped: no TURN allocation succeeded',
      });
    } else {
      for (const entry of udp) {
        const result = await gatherRelayCandidates(ndc, entry.url, entry.creds!, timeoutMs, options.bindAddress);
        add(result.relay.length > 0
          ? { id: 'turn-native', name: `Relay candidates ${entry.url.url}`, status: 'ok', detail: `node-datachannel (iceTransportPolicy relay) gathered ${result.relay[0]!.replace(/^candidate:\S+ \d+ /, '')} in ${fmtMs(result.ms)}`, ms: result.ms }
          : { id: 'turn-native', name: `Relay candidates ${entry.url.url}`, status: 'fail', detail: `node-datachannel gathered no relay candidate${result.timedOut ? ` within ${timeoutMs} ms` : ''}, although a raw Allocate worked`, fix: 'See the coturn log for this user.', cause: 'no-relay-candidate' });
      }
      const entry = udp[0]!;
      const loop = await relayLoop(ndc, entry.url, [entry.creds!, entry.creds!], timeoutMs, options.bindAddress);
      const viaRelay = loop.pair?.includes('relay') ?? false;
      add(loop.ok
        ? {
            id: 'relay', name: 'Data through the relay', status: viaRelay ? 'ok' : 'warn', ms: loop.ms,
            detail: `two relay-only peers connected (${loop.pair ?? 'pair ?'}) and echoed over a data channel in ${fmtMs(loop.ms)}${viaRelay ? '' : ', but not through the relay: this host reaches the relay address directly, so relayed data was not proven'}`,
          }
        : {
            id: 'relay', name: 'Data through the relay', status: 'fail', detail: loop.detail, cause: 'relay-blocked',
            fix: 'Allocations work but relayed data does not flow: open coturn\'s relay port range (min-port..max-port, UDP) in the firewall, set external-ip when coturn is behind NAT, and do not deny the relay address in denied-peer-ip.',
          });
    }
  }
  return report();
}

function unreachableCheck(id: string, name: string, url: IceUrl, err: unknown): Check {
  const e = err instanceof ProbeError ? err : new ProbeError('unreachable', (err as Error).message);
  const proto = transportLabel(url);
  const fix =
    e.kind === 'dns' ? `Check the DNS record of ${url.host}.`
      : e.kind === 'tls' ? `coturn's TLS certificate must be valid for ${url.host} (cert/pkey in turnserver.conf); run with --insecure to skip this.`
        : `Nothing answers on ${url.host}:${url.port}/${proto === 'UDP' ? 'udp' : 'tcp'}: is ${id === 'turn' ? 'coturn' : 'the server'} running with listening-port${url.secure ? '/tls-listening-port' : ''} ${url.port}, and is ${proto === 'UDP' ? 'UDP' : 'TCP'} ${url.port} open in the firewall (and reachable from this network)?`;
  return { id, name, status: 'fail', detail: `unreachable: ${e.message}`, fix, cause: e.kind === 'tls' ? 'tls' : 'unreachable' };
}

function refusedCheck(name: string, creds: Credentials, now: number, serverSkewMs: number | null): Check {
  const match = /^(\d+):/.exec(creds.username);
  const expiresAt = match ? Number(match[1]) * 1000 : null;
  if (expiresAt !== null && expiresAt <= now) {
    return {
      id: 'turn', name, status: 'fail', cause: 'credentials-expired',
      detail: `credentials refused (401 Unauthorized): the credential expired ${fmtDuration((now - expiresAt) / 1000)} ago (username "${creds.username}")${serverSkewMs !== null && serverSkewMs < -30_000 ? `; the Switchboard server's clock is ${fmtDuration(-serverSkewMs / 1000)} behind` : ''}`,
      fix: 'Expired TURN credential: synchronise the clocks of the Switchboard and coturn hosts (NTP); clients refresh credentials through `ice` frames, so a longer ice.turnTtlSeconds only hides a clock problem.',
    };
  }
  return {
    id: 'turn', name, status: 'fail', cause: 'credentials-rejected',
    detail: `credentials refused (401 Unauthorized) although they are valid for ${expiresAt === null ? '?' : fmtDuration((expiresAt - now) / 1000)} more: the shared secret differs`,
    fix: 'Wrong TURN secret: coturn\'s static-auth-secret must be one of Switchboard\'s ice.turnSecrets (the first one signs; switchboard turn-config prints a matching turnserver.conf), and coturn must run with use-auth-secret. A TURN host clock far ahead of the Switchboard host gives the same 401.',
  };
}

// ------------------------------------------------------------------------------ output

const TAG: Record<Status, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

export function formatCheck(check: Check): string {
  return `  ${TAG[check.status]}  ${check.name}: ${check.detail}\n`;
}

export function formatReport(report: DoctorReport, header = true): string {
  let out = header ? `Switchboard doctor: ${report.url}\n` : '';
  if (header) for (const check of report.checks) out += formatCheck(check);
  const fixes = report.checks.filter((c) => (c.status === 'fail' || c.status === 'warn') && c.fix);
  if (fixes.length > 0) {
    out += '\nWhat to fix:\n';
    for (const c of fixes) out += `  - ${c.name}: ${c.fix}\n`;
  }
  out += `\n${report.ok ? 'OK' : 'FAILED'}: ${report.checks.filter((c) => c.status === 'ok').length} passed, ${report.failures} failed, ${report.warnings} warning${report.warnings === 1 ? '' : 's'}.\n`;
  return out;
}

export interface DoctorArgs {
  options: DoctorOptions;
  json: boolean;
}

export function doctorArgs(args: string[]): DoctorArgs | null {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (err) {
    parseArgsError(err, 'doctor');
  }
  const { values, positionals } = parsed;
  if (values.help) return null;
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'the server URL is required.' : 'give one server URL.', 'doctor');
  let timeoutMs = 5000;
  if (values.timeout !== undefined) {
    timeoutMs = Number(values.timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100) throw new UsageError(`--timeout: expected a whole number of milliseconds ≥ 100, got "${values.timeout}".`, 'doctor');
  }
  baseUrl(positionals[0]!); // usage errors before any network
  return {
    options: {
      url: positionals[0]!,
      token: values.token ?? null,
      insecure: values.insecure ?? false,
      timeoutMs,
      allowNoTurn: values['allow-no-turn'] ?? false,
    },
    json: values.json ?? false,
  };
}

export async function doctorCommand(args: string[]): Promise<void> {
  const parsed = doctorArgs(args);
  if (!parsed) {
    process.stdout.write(DOCTOR_USAGE);
    return;
  }
  if (!parsed.json) process.stdout.write(`Switchboard doctor: ${baseUrl(parsed.options.url).href}\n`);
  const report = await runDoctor({ ...parsed.options, onCheck: parsed.json ? undefined : (c) => process.stdout.write(formatCheck(c)) });
  process.stdout.write(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, false));
  // node-datachannel's threads keep the process alive: leave explicitly.
  process.exit(report.ok ? 0 : 1);
}
