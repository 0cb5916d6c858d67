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
