/**
 * Static hosting of a directory (the demo app) with correct content types.
 * It must never hand out secrets, so a request is refused (404) when any segment of
 * its path starts with "." (dotfiles, .git, the default ./.switchboard data dir), when
 * the real path of the file (symlinks resolved) leaves the real static root or starts a
 * dot segment inside it, or when it lies in the data dir or is the TLS cert/key file,
 * whatever those are named.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { sendError } from './respond.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

export function contentType(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** What static hosting needs from the configuration. */
export interface StaticSite {
  staticDir: string;
  dataDir: string;
  tls: { cert: string | null; key: string | null };
}

const realOrResolved = (path: string): Promise<string> => realpath(path).catch(() => resolve(path));

/** `path` is `dir` or inside it (both absolute, normalised). */
function within(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

const hasDotSegment = (rel: string): boolean => rel.split(sep).some((segment) => segment.startsWith('.'));

/**
 * The real path of the file to send for `rel` (segments below the root), or null when it
 * is missing or must not be served.
 */
async function resolveFile(site: StaticSite, root: string, rel: string, orIndex = true): Promise<{ file: string; size: number } | null> {
  const real = await realpath(join(root, rel)).catch(() => null);
  if (real === null || !within(root, real) || hasDotSegment(relative(root, real))) return null;
  const [dataDir, ...tlsFiles] = await Promise.all([site.dataDir, site.tls.cert, site.tls.key].filter((p): p is string => p !== null).map(realOrResolved));
  if (within(dataDir!, real) || tlsFiles.includes(real)) return null;
  const info = await stat(real).catch(() => null);
  if (info?.isDirectory()) return orIndex ? resolveFile(site, root, join(rel, 'index.html'), false) : null;
  return info?.isFile() ? { file: real, size: info.size } : null;
}

export async function serveStatic(req: IncomingMessage, res: ServerResponse, site: StaticSite, pathname: string): Promise<void> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    sendError(res, 400, 'INVALID_REQUEST', 'Malformed path.');
    return;
  }
  const segments = decoded.split('/').filter((segment) => segment.length > 0);
  // Backslashes and NULs never name a file here; a "." segment is a dotfile, "." or "..".
  const refused = /[\\\0]/.test(decoded) || segments.some((segment) => segment.startsWith('.'));
  const root = await realpath(site.staticDir).catch(() => null);
  const found = refused || root === null ? null : await resolveFile(site, root, segments.join(sep));
  if (!found) {
    sendError(res, 404, 'INVALID_REQUEST', `Not found: ${pathname.slice(0, 200)}`);
    return;
  }
  const type = contentType(found.file);
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': String(found.size),
    'Cache-Control': type.startsWith('text/html') ? 'no-cache' : 'public, max-age=300',
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(found.file)
    .on('error', () => res.destroy())
    .pipe(res);
}
