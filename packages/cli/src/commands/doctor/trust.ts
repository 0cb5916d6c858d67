/**
 * What the doctor trusts and how lenient it is with a server on this machine or the LAN:
 * `switchboard serve` defaults to a self-signed certificate kept in `./.switchboard/tls/`, so
 * run from the server's directory the doctor trusts that file (or `--ca FILE`), on top of the
 * system roots; and a local server without TURN is a LAN setup, worth a warning, not a failure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { rootCertificates } from 'node:tls';
import { UsageError } from '../../errors.js';

/** The self-signed certificate `switchboard serve` keeps in its data directory, when it is here. */
export function defaultCaFile(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | null {
  const file = resolve(cwd, env['SWITCHBOARD_DATA_DIR'] || '.switchboard', 'tls', 'cert.pem');
  return existsSync(file) ? file : null;
}

/** The system roots plus the certificates in `file` (Node's `ca` alone would replace the roots). */
export function loadCa(file: string): string[] {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--ca: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`, 'doctor');
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca: ${file} holds no PEM certificate.`, 'doctor');
  return [...rootCertificates, pem];
}

/** A short name for the CA file in the report (relative when under the working directory). */
export function displayPath(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') ? rel : file;
}

export const DEFAULT_CA_HINT = join('.switchboard', 'tls', 'cert.pem');

/** localhost, loopback, private and link-local addresses, `.local` names: this machine or its LAN. */
export function isLocalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local')) return true;
  const family = isIP(host);
  if (family === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  if (family === 6) return host === '::1' || /^f[cd]/.test(host) || /^fe[89ab]/.test(host);
  return false;
}
