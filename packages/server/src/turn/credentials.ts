/**
 * TURN REST credentials (coturn `use-auth-secret`): username
 * `"<expiry unix seconds>:<user_id>"`, password base64(HMAC-SHA1(secret, username)).
 * The first secret signs; coturn may accept several during rotation.
 */
import { createHmac } from 'node:crypto';
import type { IceServer } from '@switchboard/protocol';

export interface IceSettings {
  stun: string[];
  turn: string[];
  turnSecrets: string[];
  turnTtlSeconds: number;
}

export interface IceBundle {
  iceServers: IceServer[];
  /** Unix ms when the TURN credentials stop working; null when nothing expires. */
  iceExpiresAt: number | null;
}

export function turnCredential(secret: string, userId: string, expiresAtSeconds: number): { username: string; credential: string } {
  const username = `${expiresAtSeconds}:${userId}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential };
}

export interface IceProvider {
  /**
   * Fresh ICE servers for a user (new TURN credentials each call). `localAddress`: the server
   * address the client's connection arrived on (the server's own STUN URL may be built from it).
   */
  forUser(userId: string, now?: number, localAddress?: string): IceBundle;
}

/**
 * `ownStun` gives the server's own STUN URL for a connection (null: none, e.g. not listening);
 * it comes first, before the configured `ice.stun` URLs.
 */
export function createIceProvider(settings: IceSettings, ownStun?: (localAddress: string | undefined) => string | null): IceProvider {
  const hasTurn = settings.turn.length > 0 && settings.turnSecrets.length > 0;
  return {
    forUser(userId, now = Date.now(), localAddress) {
      const iceServers: IceServer[] = [];
      const own = ownStun?.(localAddress) ?? null;
      const stun = own && !settings.stun.includes(own) ? [own, ...settings.stun] : settings.stun;
      if (stun.length > 0) iceServers.push({ urls: [...stun] });
      if (!hasTurn) return { iceServers, iceExpiresAt: null };
      const expiry = Math.floor(now / 1000) + settings.turnTtlSeconds;
      const { username, credential } = turnCredential(settings.turnSecrets[0]!, userId, expiry);
      iceServers.push({ urls: [...settings.turn], username, credential });
      return { iceServers, iceExpiresAt: expiry * 1000 };
    },
  };
}
