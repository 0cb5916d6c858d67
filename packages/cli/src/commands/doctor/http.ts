/**
 * HTTP plumbing for the doctor: the server's base URL from what the user typed, plain
 * requests with a time limit and optional trust-anything TLS, and network errors worded as
 * something to fix.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { REALTIME_PATH } from '@switchboard/protocol';
import { UsageError } from '../../errors.js';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** What went wrong, what to do about it, and a machine-readable cause for the report. */
export interface Problem {
  detail: string;
  fix: string;
  cause: string;
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

export function endpoint(base: URL, path: string): URL {
  const url = new URL(base.href);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}${path}`;
  return url;
}

export function httpCall(
  url: URL,
  options: { method?: string; headers?: Record<string, string>; body?: string; insecure: boolean; ca?: string[] | undefined; timeoutMs: number },
): Promise<HttpAnswer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: options.method ?? 'GET',
        headers: { accept: 'application/json', ...options.headers },
        rejectUnauthorized: !options.insecure,
        ...(options.ca ? { ca: options.ca } : {}),
        timeout: options.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The JSON object in `text`, or null for anything else (HTML error pages, arrays, garbage). */
export function jsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** `{code, message}` error bodies, or the start of whatever came back. */
export function describeBody(answer: HttpAnswer): string {
  const body = jsonObject(answer.body);
  if (body && typeof body['code'] === 'string') return `${body['code']}: ${String(body['message'] ?? '')}`;
  return answer.body.slice(0, 120).trim() || '(empty body)';
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_NOT_YET_VALID',
]);

/** `caFile`: the extra CA the request trusted (--ca or the local data dir's certificate), if any. */
export function networkProblem(err: unknown, what: string, caFile: string | null = null): Problem {
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? '';
  if (TLS_CODES.has(code) || /certificate/i.test(e.message)) return certificateProblem(e, code, caFile);
  if (code === 'ECONNREFUSED')
    return { detail: `${what}: connection refused`, fix: 'Is the server running, on this host and port? (switchboard serve --port)', cause: 'unreachable' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return { detail: `${what}: the host name does not resolve (${code})`, fix: 'Check the DNS record of the server.', cause: 'dns' };
  if (code === 'ETIMEDOUT') return { detail: `${what}: ${e.message}`, fix: 'A firewall may drop the connection; check the port is open.', cause: 'timeout' };
  if (code === 'EPROTO' || /wrong version number|packet length too long/i.test(e.message)) {
    return { detail: `${what}: ${e.message}`, fix: 'The port speaks plain HTTP: use http:// (or turn TLS on).', cause: 'tls' };
  }
  return { detail: `${what}: ${e.message}${code ? ` (${code})` : ''}`, fix: 'Check the URL and that the server is reachable from here.', cause: 'unreachable' };
}

/** A certificate the doctor does not trust, said plainly, with the fix for a self-signed server and for a public one. */
function certificateProblem(e: Error, code: string, caFile: string | null): Problem {
  const selfSigned = code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN';
  const what =
    code === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? 'is not valid for this host name'
      : code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
        ? 'is expired or not valid yet'
        : selfSigned
          ? 'is self-signed and not trusted'
          : 'is not signed by a trusted CA';
  const trusted = caFile ? ` (${caFile} was trusted, but the server's certificate is another one)` : '';
  const fix =
    code === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? "Use a host name the certificate lists (switchboard serve's own lists localhost, this host's name and its addresses), or serve a certificate for this name (--cert/--key)."
      : `The certificate is the problem, not the server. If it is switchboard serve's self-signed one, run the doctor from the server's directory (it trusts ./.switchboard/tls/cert.pem) or pass --ca <dataDir>/tls/cert.pem; Node clients trust it with NODE_EXTRA_CA_CERTS=<that file>, browsers ask once. A public server needs a certificate from a public CA (--cert/--key or a proxy in front). --insecure checks the rest anyway.`;
  return { detail: `TLS certificate problem: the server's certificate ${what}${trusted}: ${e.message} (${code})`, fix, cause: 'tls' };
}
