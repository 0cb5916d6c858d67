/**
 * A small STUN/TURN client (RFC 8489 / RFC 8656) for `switchboard doctor`: a Binding request
 * (is the server there? what is my public address?) and a TURN Allocate with long-term
 * credentials, over UDP, TCP or TLS. Unlike a WebRTC stack, which only gathers no relay
 * candidate when anything goes wrong, it sees the server's answer (401 = credentials refused,
 * 403 = forbidden, no answer = unreachable), so the doctor can name the problem.
 *
 * The message format is in stun-message.ts, the sockets in stun-transport.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IceUrl } from './ice-urls.js';
import { ATTR, attributeValue, decodeXorAddress, encodeRequest, encodeXorAddress, errorCode, METHOD, type Address, type StunError } from './stun-message.js';
import { openChannel, type ProbeOptions } from './stun-transport.js';

export type { Address } from './stun-message.js';
export { ProbeError } from './stun-transport.js';

export interface BindingResult {
  mapped: Address | null;
  rttMs: number;
  software: string | null;
}

/** STUN Binding request: is the server there, and what address does it see? */
export async function stunBinding(url: IceUrl, options: ProbeOptions = {}): Promise<BindingResult> {
  const channel = await openChannel(url, options);
  try {
    const tid = randomBytes(12);
    const started = performance.now();
    const reply = await channel.request(encodeRequest(METHOD.binding, tid, []), tid, options.timeoutMs ?? 5000);
    const rttMs = performance.now() - started;
    const xor = attributeValue(reply, ATTR.xorMappedAddress);
    return {
      mapped: xor ? decodeXorAddress(xor, reply.transactionId) : null,
      rttMs,
      software: attributeValue(reply, ATTR.software)?.toString('utf8') ?? null,
    };
  } finally {
    channel.close();
  }
}

export type AllocateResult =
  | {
      ok: true;
      relayed: Address | null;
      mapped: Address | null;
      lifetimeSeconds: number | null;
      realm: string;
      rttMs: number;
      /** CreatePermission for a peer address (403 when the server denies that peer range). */
      createPermission(peer: string): Promise<{ ok: true } | { ok: false; error: StunError | null }>;
      /** Refresh with LIFETIME 0: frees the allocation, then closes the socket. */
      release(): Promise<void>;
    }
  | {
      ok: false;
      /** 401 after authenticating: the credentials were refused (wrong secret, expired, unknown user). */
      error: StunError;
      realm: string | null;
      /** True when the refusal came on the authenticated attempt (not just the first 401 challenge). */
      authenticated: boolean;
    };

/**
 * TURN Allocate (UDP relay) with long-term credentials: the unauthenticated request
 * draws a 401 with REALM and NONCE; the second carries USERNAME/REALM/NONCE and
 * MESSAGE-INTEGRITY keyed with MD5(username:realm:password). Throws ProbeError when the
 * server does not answer at all.
 */
export async function turnAllocate(url: IceUrl, credentials: { username: string; credential: string }, options: ProbeOptions = {}): Promise<AllocateResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const channel = await openChannel(url, options);
  let keep = false;
  try {
    const transport = { type: ATTR.requestedTransport, value: Buffer.from([17, 0, 0, 0]) };
    const started = performance.now();
    let tid = randomBytes(12);
    let reply = await channel.request(encodeRequest(METHOD.allocate, tid, [transport]), tid, timeoutMs);
    let realm: string | null = null;
    let nonce: Buffer | null = null;
    let key: Buffer | null = null;
    for (let attempt = 0; reply.cls === 'error' && attempt < 3; attempt++) {
      const error = errorCode(reply) ?? { code: 0, reason: 'no ERROR-CODE' };
      if (error.code !== 401 && error.code !== 438) return { ok: false, error, realm, authenticated: key !== null };
      if (error.code === 401 && key !== null) return { ok: false, error, realm, authenticated: true };
      realm = attributeValue(reply, ATTR.realm)?.toString('utf8') ?? realm;
      nonce = attributeValue(reply, ATTR.nonce) ?? nonce;
      if (realm === null || nonce === null) return { ok: false, error, realm, authenticated: false };
      key = createHash('md5').update(`${credentials.username}:${realm}:${credentials.credential}`).digest();
      tid = randomBytes(12);
      reply = await channel.request(
        encodeRequest(
          METHOD.allocate,
          tid,
          [
            transport,
            { type: ATTR.username, value: Buffer.from(credentials.username, 'utf8') },
            { type: ATTR.realm, value: Buffer.from(realm, 'utf8') },
            { type: ATTR.nonce, value: nonce },
          ],
          key,
        ),
        tid,
        timeoutMs,
      );
    }
    if (reply.cls !== 'success' || realm === null || nonce === null || key === null) {
      return { ok: false, error: errorCode(reply) ?? { code: 0, reason: `unexpected ${reply.cls} reply` }, realm, authenticated: key !== null };
    }
    const rttMs = performance.now() - started;
    const relayedRaw = attributeValue(reply, ATTR.xorRelayedAddress);
    const mappedRaw = attributeValue(reply, ATTR.xorMappedAddress);
    const lifetime = attributeValue(reply, ATTR.lifetime);
    const authAttrs = () => [
      { type: ATTR.username, value: Buffer.from(credentials.username, 'utf8') },
      { type: ATTR.realm, value: Buffer.from(realm!, 'utf8') },
      { type: ATTR.nonce, value: nonce! },
    ];
    keep = true;
    let released = false;
    return {
      ok: true,
      relayed: relayedRaw ? decodeXorAddress(relayedRaw, reply.transactionId) : null,
      mapped: mappedRaw ? decodeXorAddress(mappedRaw, reply.transactionId) : null,
      lifetimeSeconds: lifetime && lifetime.length >= 4 ? lifetime.readUInt32BE(0) : null,
      realm,
      rttMs,
      async createPermission(peer) {
        const t = randomBytes(12);
        const answer = await channel.request(
          encodeRequest(METHOD.createPermission, t, [{ type: ATTR.xorPeerAddress, value: encodeXorAddress(peer, 0) }, ...authAttrs()], key!),
          t,
          timeoutMs,
        );
        return answer.cls === 'success' ? { ok: true } : { ok: false, error: errorCode(answer) };
      },
      async release() {
        if (released) return;
        released = true;
        try {
          const t = randomBytes(12);
          await channel.request(
            encodeRequest(METHOD.refresh, t, [{ type: ATTR.lifetime, value: Buffer.alloc(4) }, ...authAttrs()], key!),
            t,
            Math.min(timeoutMs, 2000),
          );
        } catch {
          // The allocation times out on the server anyway.
        } finally {
          channel.close();
        }
      },
    };
  } finally {
    if (!keep) channel.close();
  }
}
