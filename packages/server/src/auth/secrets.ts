/**
 * The default signing secret: generated once and kept in `<dataDir>/secret`
 * (mode 0600) so tokens minted by `switchboard token` survive restarts.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileError } from '../startup-error.js';

export const SECRET_FILE = 'secret';

export function loadOrCreateSecret(dataDir: string): string {
  const file = join(dataDir, SECRET_FILE);
  try {
    return readOrCreate(dataDir, file);
  } catch (err) {
    throw fileError(err, 'dataDir', 'read or create the signing secret', file);
  }
}

function readOrCreate(dataDir: string, file: string): string {
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 16) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  try {
    // `wx`: never overwrite a secret another process wrote a moment ago.
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw err;
  }
}

/** The configured secrets, or the persisted default when none are configured. */
export function resolveSecrets(config: { auth: { secrets: string[] }; dataDir: string }): string[] {
  return config.auth.secrets.length > 0 ? [...config.auth.secrets] : [loadOrCreateSecret(config.dataDir)];
}
