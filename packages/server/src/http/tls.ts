/**
 * TLS material: `files` (the given cert/key), or `self-signed` (generated once
 * with SANs for localhost, 127.0.0.1, ::1 and this machine's LAN addresses,
 * kept in `<dataDir>/tls/` and reused until it nears expiry).
 */
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { SwitchboardConfig } from '../config.js';
import { lanAddresses } from '../net.js';
import { fileError, StartupError } from '../startup-error.js';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 fingerprint of the certificate (colon-separated hex). */
  fingerprint: string;
  selfSigned: boolean;
  /** Where the certificate lives (for the "trust this file" hint). */
  certPath: string;
}

const RENEW_BEFORE_MS = 7 * 24 * 60 * 60 * 1000;

function readIfValid(certPath: string, keyPath: string): { cert: string; key: string; fingerprint: string } | null {
  try {
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    const x509 = new X509Certificate(cert);
    if (Date.parse(x509.validTo) - Date.now() < RENEW_BEFORE_MS) return null;
    return { cert, key, fingerprint: x509.fingerprint256 };
  } catch {
    return null;
  }
}

export async function ensureSelfSigned(dataDir: string): Promise<TlsMaterial> {
  const dir = join(dataDir, 'tls');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const existing = readIfValid(certPath, keyPath);
  if (existing) return { ...existing, selfSigned: true, certPath };

  const dns = [...new Set(['localhost', hostname()])];
  const ips = ['127.0.0.1', '::1', ...lanAddresses({ ipv6: true })];
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + 825 * 24 * 60 * 60 * 1000);
  // Loaded here, not with the server: its X.509 stack is 3 MB of heap most runs never use.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'Switchboard (self-signed)' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...dns.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(keyPath, pems.private, { mode: 0o600 });
    writeFileSync(certPath, pems.cert);
  } catch (err) {
    throw fileError(err, 'dataDir', 'write the self-signed certificate to', dir);
  }
  return { cert: pems.cert, key: pems.private, fingerprint: new X509Certificate(pems.cert).fingerprint256, selfSigned: true, certPath };
}

export async function loadTls(config: SwitchboardConfig): Promise<TlsMaterial | null> {
  switch (config.tls.mode) {
    case 'off':
      return null;
    case 'files':
      return loadFiles(config.tls.cert!, config.tls.key!);
    case 'self-signed':
      return ensureSelfSigned(config.dataDir);
  }
}

function readSetting(setting: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw fileError(err, setting, 'read', path);
  }
}

/** The given cert/key, checked to be PEM and to belong together before any socket opens. */
function loadFiles(certPath: string, keyPath: string): TlsMaterial {
  const cert = readSetting('tls.cert', certPath);
  const key = readSetting('tls.key', keyPath);
  let fingerprint: string;
  try {
    fingerprint = new X509Certificate(cert).fingerprint256;
  } catch (err) {
    throw new StartupError('tls.cert', `${certPath} is not a PEM certificate`, { cause: err });
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    const mismatch = /key values mismatch/i.test((err as Error).message);
    throw new StartupError('tls.key', mismatch ? `${keyPath} is not the private key of tls.cert ${certPath}` : `${keyPath} is not a PEM private key`, {
      cause: err,
    });
  }
  return { cert, key, fingerprint, selfSigned: false, certPath };
}
