/**
 * VAPID keys (RFC 8292). The pair comes from config (push.vapidPublicKey/vapidPrivateKey), else
 * it is generated once: kept in `<dataDir>/vapid.json` (mode 0600, like the signing secret; the
 * static server never serves the data dir), or in a cluster stored once in Redis so every node
 * signs with the same key. Nothing is generated until push is first used.
 *
 * Rotation: a browser subscription is bound to the key it was made with. Each stored
 * subscription remembers that key; pushes to it are signed with the matching pair, the current
 * one or one of push.previousVapidKeys. A subscription whose key is unknown is dropped.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { webPushLib } from '../optional-libs.js';
import { fileError, StartupError } from '../startup-error.js';
import type { PushStore, VapidKeys } from './types.js';

export const VAPID_FILE = 'vapid.json';

export interface Keyring {
  current(): Promise<VapidKeys>;
  /** The pair whose public key is `publicKey`, if the server still has it. */
  pairFor(publicKey: string): Promise<VapidKeys | null>;
}

export const generateVapidKeys = (): VapidKeys => webPushLib().generateVAPIDKeys();

const isPair = (x: unknown): x is VapidKeys =>
  typeof x === 'object' &&
  x !== null &&
  typeof (x as VapidKeys).publicKey === 'string' &&
  typeof (x as VapidKeys).privateKey === 'string' &&
  /^[A-Za-z0-9_-]{87}$/.test((x as VapidKeys).publicKey) &&
  /^[A-Za-z0-9_-]{43}$/.test((x as VapidKeys).privateKey);

export function loadOrCreateVapid(dataDir: string): VapidKeys {
  const file = join(dataDir, VAPID_FILE);
  try {
    try {
      const existing: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (isPair(existing)) return existing;
      throw new StartupError('dataDir', `${file} is not a VAPID key pair ({"publicKey", "privateKey"} in base64url); remove it to generate a new one`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const keys = generateVapidKeys();
    try {
      // `wx`: never overwrite a pair another process wrote a moment ago.
      writeFileSync(file, `${JSON.stringify(keys)}\n`, { mode: 0o600, flag: 'wx' });
      return keys;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return JSON.parse(readFileSync(file, 'utf8')) as VapidKeys;
      throw err;
    }
  } catch (err) {
    throw fileError(err, 'dataDir', 'read or create the VAPID keys', file);
  }
}

export function createKeyring(
  settings: { vapidPublicKey: string | null; vapidPrivateKey: string | null; previousVapidKeys: string[] },
  dataDir: string,
  store: PushStore,
): Keyring {
  const previous = settings.previousVapidKeys.map((entry) => {
    const [publicKey, privateKey] = entry.split(':') as [string, string];
    return { publicKey, privateKey };
  });
  const given = settings.vapidPublicKey && settings.vapidPrivateKey ? { publicKey: settings.vapidPublicKey, privateKey: settings.vapidPrivateKey } : null;
  let current: Promise<VapidKeys> | null = given ? Promise.resolve(given) : null;
  const load = (): Promise<VapidKeys> => {
    current ??= (store.sharedKeys(generateVapidKeys) ?? Promise.resolve().then(() => loadOrCreateVapid(dataDir))).catch((err: unknown) => {
      current = null; // a Redis hiccup or a full disk: try again next time
      throw err;
    });
    return current;
  };
  return {
    current: load,
    async pairFor(publicKey) {
      const now = await load();
      if (now.publicKey === publicKey) return now;
      return previous.find((pair) => pair.publicKey === publicKey) ?? null;
    },
  };
}
