/**
 * What the ICE configuration the server hands out says before anything is probed: which
 * STUN and TURN URLs there are (and which TURN transports are missing), and whether the
 * minted TURN REST credentials are still valid by this machine's clock.
 */
import { isTurn, parseIceUrl, transportLabel, type IceUrl } from '../ice-urls.js';
import type { Credentials } from '../relay-probe.js';
import { fmtDuration, type CheckContext } from './report.js';

export interface IceServerLike {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface TurnEntry {
  url: IceUrl;
  creds: Credentials | null;
}

/** Sorts the ICE servers into STUN URLs and TURN URLs with their credentials; a URL that does not parse is a failure. */
export function checkIceServers(ctx: CheckContext, iceServers: IceServerLike[], allowNoTurn: boolean): { stun: IceUrl[]; turn: TurnEntry[] } {
  const stun: IceUrl[] = [];
  const turn: TurnEntry[] = [];
  for (const server of iceServers) {
    for (const raw of Array.isArray(server.urls) ? server.urls : [server.urls]) {
      let url: IceUrl;
      try {
        url = parseIceUrl(raw);
      } catch (err) {
        ctx.add({
          id: 'ice',
          name: 'ICE servers',
          status: 'fail',
          detail: (err as Error).message,
          fix: 'Fix ice.stun / ice.turn in the server configuration.',
          cause: 'bad-url',
        });
        continue;
      }
      if (isTurn(url)) {
        turn.push({
          url,
          creds: server.username !== undefined && server.credential !== undefined ? { username: server.username, credential: server.credential } : null,
        });
      } else {
        stun.push(url);
      }
    }
  }
  const transports = [...new Set(turn.map((t) => transportLabel(t.url)))];
  if (turn.length === 0) {
    ctx.add({
      id: 'ice',
      name: 'ICE servers',
      status: allowNoTurn ? 'warn' : 'fail',
      detail: `no TURN server configured (${stun.length} STUN). Calls between peers without a direct path (mobile networks, symmetric NATs, firewalls) will fail with RTC_ICE_FAILED`,
      fix: 'Run coturn beside Switchboard and set ice.turn and ice.turnSecrets (switchboard turn-config prints a matching coturn configuration; see docs/turn.md).',
      cause: 'no-turn',
    });
  } else {
    const missing = (['UDP', 'TCP', 'TLS'] as const).filter((t) => !transports.includes(t));
    ctx.add({
      id: 'ice',
      name: 'ICE servers',
      status: missing.length > 0 ? 'warn' : 'ok',
      detail: `${stun.length} STUN, ${turn.length} TURN URL${turn.length === 1 ? '' : 's'} (${transports.join(', ')})`,
      ...(missing.length > 0
        ? {
            fix: `No TURN over ${missing.join('/')}: networks that only let ${missing.includes('TLS') ? 'HTTPS (TCP 443) ' : 'TCP '}out cannot relay. Add ${missing.includes('TCP') ? '"turn:HOST:3478?transport=tcp" ' : ''}${missing.includes('TLS') ? '"turns:HOST:443?transport=tcp" ' : ''}to ice.turn.`,
          }
        : {}),
    });
  }
  if (stun.length === 0 && turn.length > 0) {
    ctx.add({
      id: 'ice',
      name: 'STUN',
      status: 'ok',
      detail: 'no STUN URL: server-reflexive candidates come from the TURN server (it answers Binding requests too)',
    });
  }
  return { stun, turn };
}

/**
 * The first TURN entry's REST username ("<expiry>:<user_id>"): already expired, or valid while
 * the server's clock is far off (coturn judges expiry by its own clock).
 */
export function checkTurnCredentials(ctx: CheckContext, turn: TurnEntry[], now: number, serverSkewMs: number | null): void {
  if (turn.length === 0) return;
  const first = turn.map((t) => t.creds).find((c): c is Credentials => c !== null);
  const match = first ? /^(\d+):(.+)$/.exec(first.username) : null;
  if (!first) {
    ctx.add({
      id: 'credentials',
      name: 'TURN credentials',
      status: 'fail',
      detail: 'the TURN entries carry no username/credential',
      fix: 'Set ice.turnSecrets (the coturn static-auth-secret).',
      cause: 'no-credentials',
    });
  } else if (!match) {
    ctx.add({
      id: 'credentials',
      name: 'TURN credentials',
      status: 'warn',
      detail: `username "${first.username}" is not a REST username "<expiry>:<user_id>"`,
    });
  } else {
    const expiresAt = Number(match[1]) * 1000;
    const left = (expiresAt - now) / 1000;
    const skew =
      serverSkewMs !== null && Math.abs(serverSkewMs) > 30_000
        ? ` The server's clock is ${fmtDuration(serverSkewMs / 1000)} ${serverSkewMs < 0 ? 'behind' : 'ahead of'} this machine's (HTTP Date header).`
        : '';
    if (left <= 0) {
      ctx.add({
        id: 'credentials',
        name: 'TURN credentials',
        status: 'fail',
        detail: `the server mints credentials that are already expired: "${first.username}" expired ${fmtDuration(-left)} ago (${new Date(expiresAt).toISOString()}).${skew}`,
        fix: 'Synchronise the clocks of the Switchboard and coturn hosts (NTP) and check ice.turnTtlSeconds.',
        cause: 'credentials-expired',
      });
    } else {
      ctx.add({
        id: 'credentials',
        name: 'TURN credentials',
        status: skew ? 'warn' : 'ok',
        detail: `REST username for "${match[2]}", valid for ${fmtDuration(left)}.${skew}`,
        ...(skew ? { fix: 'Synchronise the clocks (NTP): coturn refuses credentials that look expired by its own clock.' } : {}),
      });
    }
  }
}
