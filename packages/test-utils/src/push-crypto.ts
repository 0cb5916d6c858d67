/**
 * The user agent's half of Web Push, with node:crypto only: subscription keys, RFC 8291
 * (aes128gcm) decryption, and RFC 8292 VAPID verification. What a browser and its push service
 * do, so tests can check the server's pushes end to end.
 */
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify, type ECDH } from 'node:crypto';

/** A browser's subscription keys: a P-256 key pair (p256dh) and a 16-byte auth secret. */
export interface SubscriptionKeys {
  ecdh: ECDH;
  /** Base64url, as `PushSubscription.toJSON().keys` gives them. */
  p256dh: string;
  auth: string;
}

export function subscriptionKeys(): SubscriptionKeys {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { ecdh, p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}

/**
 * RFC 8291 §3–4 with RFC 8188's aes128gcm framing. The body is a header
 * (salt 16 | record size 4 | key id length 1 | key id = the server's ephemeral public key)
 * followed by one record: AES-128-GCM ciphertext and its 16-byte tag. Returns the plaintext.
 */
export function decryptPush(body: Buffer, keys: SubscriptionKeys): Buffer {
  const salt = body.subarray(0, 16);
  const idLength = body.readUInt8(20);
  const serverPublic = body.subarray(21, 21 + idLength);
  const record = body.subarray(21 + idLength);
  const uaPublic = keys.ecdh.getPublicKey();
  // The shared secret, mixed with the auth secret and both public keys (§3.3, §3.4).
  const ecdhSecret = keys.ecdh.computeSecret(serverPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, serverPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, Buffer.from(keys.auth, 'base64url'), keyInfo, 32));
  // The content key and nonce (RFC 8188 §2.2, §2.3); a single record, so the nonce is used as is.
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  // The last record ends with the delimiter 0x02, then zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end -= 1;
  if (padded[end] !== 2) throw new Error('aes128gcm: no last-record delimiter');
  return padded.subarray(0, end);
}

export interface VapidClaims {
  aud: string;
  exp: number;
  sub: string;
  /** The public key from the `k=` parameter (base64url). */
  publicKey: string;
}

/**
 * Checks `Authorization: vapid t=<JWT>, k=<public key>` (RFC 8292 §3): an ES256 JWT signed by
 * `k`, whose `aud` is the push service's origin and whose `exp` is within 24 hours. Throws why not.
 */
export function verifyVapid(header: string | undefined, origin: string, now = Date.now()): VapidClaims {
  const match = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+),\s*k=([\w-]+)$/.exec(header ?? '');
  if (!match) throw new Error(`not a vapid Authorization header: ${String(header).slice(0, 40)}`);
  const [, jwt, k] = match as unknown as [string, string, string];
  const [head, claims, signature] = jwt.split('.') as [string, string, string];
  const raw = Buffer.from(k, 'base64url');
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') },
    format: 'jwk',
  });
  const ok = verify('sha256', Buffer.from(`${head}.${claims}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  if (!ok) throw new Error('vapid: bad signature');
  if (JSON.parse(Buffer.from(head, 'base64url').toString()).alg !== 'ES256') throw new Error('vapid: alg is not ES256');
  const body = JSON.parse(Buffer.from(claims, 'base64url').toString()) as Omit<VapidClaims, 'publicKey'>;
  if (body.aud !== origin) throw new Error(`vapid: aud ${body.aud} is not ${origin}`);
  if (!(body.exp * 1000 > now && body.exp * 1000 <= now + 24 * 3600_000 + 60_000)) throw new Error('vapid: exp out of range');
  if (!/^(mailto:|https:)/.test(body.sub ?? '')) throw new Error('vapid: sub is not mailto: or https:');
  return { ...body, publicKey: k };
}
