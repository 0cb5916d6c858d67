/**
 * The server hands out its own browser SDK, so a page needs nothing but
 * `<script src="https://your-server/switchboard.js">` (global `Switchboard`) or
 * `import { Switchboard } from 'https://your-server/switchboard.mjs'`, and the file-transfer add-on
 * /switchboard-transfer.js (adds sendFile, ... to the global) or .mjs. The files are the
 * minified builds in @switchboard/client's dist/cdn/, served with their source maps, an
 * ETag (304 on a match), gzip when accepted, and the SDK version in X-Switchboard-Version.
 * They are public code: any origin may load them (CORS *), which a cross-origin module import needs.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sendError } from './respond.js';

const FILES: Record<string, string> = {
  '/switchboard.js': 'text/javascript; charset=utf-8',
  '/switchboard.js.map': 'application/json; charset=utf-8',
  '/switchboard.mjs': 'text/javascript; charset=utf-8',
  '/switchboard.mjs.map': 'application/json; charset=utf-8',
  // File transfer (sendFile, receiveFiles): an add-on, loaded after the SDK.
  '/switchboard-transfer.js': 'text/javascript; charset=utf-8',
  '/switchboard-transfer.js.map': 'application/json; charset=utf-8',
  '/switchboard-transfer.mjs': 'text/javascript; charset=utf-8',
  '/switchboard-transfer.mjs.map': 'application/json; charset=utf-8',
};

export const SDK_PATHS: ReadonlySet<string> = new Set(Object.keys(FILES));

interface Asset {
  mtimeMs: number;
  size: number;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

interface Sdk {
  dir: string;
  version: string;
}

let located: Sdk | null | undefined;
const assets = new Map<string, Asset>();

/** @switchboard/client's dist/cdn/ and version, or null when the package is not installed. */
async function locate(): Promise<Sdk | null> {
  if (located !== undefined) return located;
  try {
    const manifest = createRequire(import.meta.url).resolve('@switchboard/client/package.json');
    const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
    located = { dir: join(dirname(manifest), 'dist', 'cdn'), version };
  } catch {
    located = null;
  }
  return located;
}

/** The file's bytes, re-read when it changed on disk (a rebuild while the server runs). */
async function load(file: string, version: string): Promise<Asset | null> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return null;
  const cached = assets.get(file);
  if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached;
  const body = await readFile(file);
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 22);
  const asset = { mtimeMs: info.mtimeMs, size: info.size, body, gzip: gzipSync(body, { level: 9 }), etag: `"${version}-${hash}"` };
  assets.set(file, asset);
  return asset;
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((part) => {
    const [coding, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return coding === 'gzip' && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/** Serves one of SDK_PATHS (GET or HEAD). */
export async function serveSdk(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  const sdk = await locate();
  if (!sdk) {
    sendError(res, 404, 'INVALID_REQUEST', `${pathname}: the browser SDK (@switchboard/client) is not installed next to this server.`);
    return;
  }
  const asset = await load(join(sdk.dir, pathname.slice(1)), sdk.version);
  if (!asset) {
    sendError(res, 404, 'INVALID_REQUEST', `${pathname}: the browser SDK is not built (run "npm run build").`);
    return;
  }
  const headers: Record<string, string> = {
    'Content-Type': FILES[pathname]!,
    'Cache-Control': 'public, max-age=600',
    ETag: asset.etag,
    Vary: 'Accept-Encoding',
    'X-Switchboard-Version': sdk.version,
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'ETag, X-Switchboard-Version',
    'Cross-Origin-Resource-Policy': 'cross-origin',
    'X-Content-Type-Options': 'nosniff',
  };
  if (matches(req.headers['if-none-match'], asset.etag)) {
    res.writeHead(304, headers).end();
    return;
  }
  const gzip = acceptsGzip(req.headers['accept-encoding']);
  const body = gzip ? asset.gzip : asset.body;
  if (gzip) headers['Content-Encoding'] = 'gzip';
  headers['Content-Length'] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}
