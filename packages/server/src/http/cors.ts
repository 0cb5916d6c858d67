import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * CORS for the HTTP API. `origins` is `['*']` (any origin, the default) or a
 * list of allowed origins. Returns true when it answered a preflight.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, origins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origins.includes('*')) res.setHeader('Access-Control-Allow-Origin', '*');
  else {
    res.setHeader('Vary', 'Origin');
    if (origin && origins.includes(origin)) res.setHeader('Access-Control-Allow-Origin', origin);
  }
  if (req.method !== 'OPTIONS') return false;
  res.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type',
    'Access-Control-Max-Age': '600',
    'Content-Length': '0',
  });
  res.end();
  return true;
}

/**
 * The Origin check of the WebSocket upgrade, against the same `cors.origins` list.
 * It stops other web sites' pages from using this server from a visitor's browser
 * (browsers always send Origin and scripts cannot change it). Allowed: no Origin
 * (Node and other non-browser clients, which could send any Origin anyway),
 * `origins` containing "*" or the Origin, and a same-origin page (Origin's host
 * equals Host: the server's own demo). Everything else, including Origin "null"
 * (sandboxed frames, file://), is refused.
 */
export function originAllowed(req: IncomingMessage, origins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || origins.includes('*') || origins.includes(origin)) return true;
  const host = req.headers.host;
  if (!host) return false;
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    // Parsing Host under the Origin's scheme normalizes case and a spelled-out default port.
    return url.host === new URL(`${url.protocol}//${host}`).host;
  } catch {
    return false;
  }
}
