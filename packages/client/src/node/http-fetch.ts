/**
 * The Node SDK's HTTP requests (the guest token, the listings, the probe after a refused
 * upgrade) over node:http and node:https instead of the global fetch. `ws` has loaded those
 * modules already, whereas a process's first global fetch (or first use of Response or
 * Headers) loads and compiles undici: tens of milliseconds, several hundred on a busy machine,
 * all of it on a guest's first connectRealtime. It also takes the extra trusted CAs, which the
 * global fetch cannot. The answer is the part of a Response the SDK reads (ok, status,
 * statusText, headers.get, text, json). A certificate failure answers like a refusing server
 * (HTTP 495, CERTIFICATE_UNTRUSTED), which the SDK does not retry.
 */
import { request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { certificateRefusal } from './tls.js';

/** What the SDK reads of a Response. */
class NodeResponse {
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };

  constructor(
    readonly status: number,
    readonly statusText: string,
    raw: IncomingHttpHeaders,
    private readonly body: string,
  ) {
    this.ok = status >= 200 && status < 300;
    this.headers = {
      get: (name) => {
        const value = raw[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    };
  }

  text(): Promise<string> {
    return Promise.resolve(this.body);
  }

  json(): Promise<unknown> {
    return this.text().then((text) => JSON.parse(text) as unknown);
  }
}

/** Request headers as a plain record, from the forms fetch takes (without touching the Headers class). */
function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  const pairs: Iterable<[string, string]> = Array.isArray(headers)
    ? (headers as [string, string][])
    : typeof (headers as Headers).entries === 'function'
      ? (headers as Headers).entries()
      : Object.entries(headers as Record<string, string>);
  for (const [name, value] of pairs) out[name.toLowerCase()] = String(value);
  return out;
}

/** fetch for the SDK's own requests; `ca`: the trusted CAs (system roots included), or undefined for the defaults. */
export function nodeFetch(ca: (string | Buffer)[] | undefined): typeof fetch {
  const fetchOverNode = (input: string | URL | { url: string }, init: RequestInit = {}): Promise<NodeResponse> =>
    new Promise((resolve, reject) => {
      const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const url = new URL(href);
      const signal = init.signal ?? undefined;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const https = url.protocol === 'https:';
      const options: RequestOptions & { ca?: (string | Buffer)[] } = { method: init.method ?? 'GET', headers: headerRecord(init.headers) };
      if (signal) options.signal = signal;
      if (https && ca) options.ca = ca;
      const onError = (error: Error) => {
        const refusal = certificateRefusal(href, error);
        if (refusal) resolve(new NodeResponse(refusal.status, '', { 'content-type': 'application/json' }, refusal.body));
        else reject(signal?.aborted ? signal.reason : error);
      };
      const req = (https ? httpsRequest : httpRequest)(url, options, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('error', onError);
        res.on('end', () => resolve(new NodeResponse(res.statusCode ?? 502, res.statusMessage ?? '', res.headers, body)));
      });
      req.on('error', onError);
      const body = init.body;
      if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
      else req.end();
    });
  return fetchOverNode as unknown as typeof fetch;
}
