/**
 * Probes of the ICE servers themselves: a Binding to every STUN URL and an Allocate with the
 * minted credentials on every TURN URL (relay-checks.ts then tries a real WebRTC stack).
 */
import { lookup } from 'node:dns/promises';
import { transportLabel, type IceUrl } from '../ice-urls.js';
import type { Credentials } from '../relay-probe.js';
import { ProbeError, stunBinding, turnAllocate } from '../stun-client.js';
import type { TurnEntry } from './ice-config.js';
import { fmtAddr, fmtDuration, fmtMs, type Check, type CheckContext } from './report.js';

export interface AllocatedTurn {
  url: IceUrl;
  creds: Credentials;
}

/**
 * The STUN URLs on the server's own host: the server hands out its own STUN responder's URL
 * (stun.enabled, on by default) built from publicUrl or the address this machine reached it on.
 */
export async function ownStunUrls(base: URL, stun: IceUrl[]): Promise<Set<string>> {
  const addresses = async (host: string) => {
    try {
      return new Set((await lookup(host.replace(/^\[(.*)\]$/, '$1'), { all: true })).map((a) => a.address));
    } catch {
      return new Set<string>();
    }
  };
  const server = await addresses(base.hostname);
  const own = new Set<string>();
  for (const url of stun) {
    if (url.scheme !== 'stun') continue;
    if ([...(await addresses(url.host))].some((a) => server.has(a))) own.add(url.url);
  }
  return own;
}

/** A Binding to every STUN URL; `own`: the ones on the server's host; no STUN and no TURN at all is a warning. */
export async function checkStunServers(ctx: CheckContext, stun: IceUrl[], { own = new Set<string>(), hasTurn = true } = {}): Promise<void> {
  for (const url of stun) {
    const mine = own.has(url.url);
    const name = `STUN ${url.url}${mine ? ' (this server)' : ''}`;
    try {
      const result = await stunBinding(url, { timeoutMs: ctx.timeoutMs, insecureTls: ctx.insecure });
      ctx.add({
        id: 'stun',
        name,
        status: 'ok',
        detail: `reachable, sees this machine as ${fmtAddr(result.mapped)} (${fmtMs(result.rttMs)})`,
        ms: result.rttMs,
      });
    } catch (err) {
      const check = unreachableCheck('stun', name, url, err);
      if (mine && check.cause === 'unreachable') {
        check.fix = `The server's own STUN does not answer on ${url.host}:${url.port}/udp from here: open UDP ${url.port} (stun.port) in the firewall and forward it to the Switchboard host when it is behind NAT or a proxy (publicUrl names the host clients are told); or set stun.enabled to false and list another STUN server in ice.stun.`;
      }
      ctx.add(check);
    }
  }
  if (stun.length === 0 && !hasTurn) {
    ctx.add({
      id: 'stun',
      name: 'STUN',
      status: 'warn',
      cause: 'no-stun',
      detail: 'no STUN server: clients behind NAT gather no server-reflexive candidates, so calls between different networks cannot connect',
      fix: "Turn the server's own STUN back on (stun.enabled, on by default; UDP stun.port 3478) or list a STUN server in ice.stun.",
    });
  }
}

/** Allocates (and releases) on every TURN URL; resolves the ones that worked. */
export async function checkTurnAllocations(ctx: CheckContext, turn: TurnEntry[], now: number, serverSkewMs: number | null): Promise<AllocatedTurn[]> {
  const allocated: AllocatedTurn[] = [];
  for (const { url, creds } of turn) {
    const name = `TURN ${url.url}`;
    if (!creds) continue;
    try {
      const result = await turnAllocate(url, creds, { timeoutMs: ctx.timeoutMs, insecureTls: ctx.insecure });
      if (result.ok) {
        await result.release();
        allocated.push({ url, creds });
        const privateRelay = result.relayed && isPrivateIp(result.relayed.address) && !isPrivateIp(url.host) && !/^localhost$/i.test(url.host);
        ctx.add({
          id: 'turn',
          name,
          status: privateRelay ? 'warn' : 'ok',
          detail: `allocation over ${transportLabel(url)}: relay address ${fmtAddr(result.relayed)}, realm "${result.realm}" (${fmtMs(result.rttMs)})`,
          ms: result.rttMs,
          ...(privateRelay ? { fix: 'The relay address is private: coturn is behind NAT. Set external-ip=<public IP>/<private IP> in turnserver.conf.' } : {}),
        });
      } else if (result.error.code === 401 && result.authenticated) {
        ctx.add(refusedCheck(name, creds, now, serverSkewMs));
      } else {
        ctx.add({
          id: 'turn',
          name,
          status: 'fail',
          detail: `the TURN server answered ${result.error.code} ${result.error.reason}`,
          fix:
            result.error.code === 401
              ? 'The server does not offer long-term (REST) authentication: run coturn with use-auth-secret.'
              : result.error.code === 486
                ? 'Allocation quota reached (user-quota / total-quota in turnserver.conf).'
                : 'See the coturn log.',
          cause: `turn-${result.error.code}`,
        });
      }
    } catch (err) {
      ctx.add(unreachableCheck('turn', name, url, err));
    }
  }
  return allocated;
}

function isPrivateIp(address: string): boolean {
  if (address.includes(':')) return /^(::1$|f[cd]|fe[89ab])/i.test(address);
  const [a, b] = address.split('.').map(Number) as [number, number];
  return (
    a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254)
  );
}

function unreachableCheck(id: string, name: string, url: IceUrl, err: unknown): Check {
  const e = err instanceof ProbeError ? err : new ProbeError('unreachable', (err as Error).message);
  const proto = transportLabel(url);
  const fix =
    e.kind === 'dns'
      ? `Check the DNS record of ${url.host}.`
      : e.kind === 'tls'
        ? `coturn's TLS certificate must be valid for ${url.host} (cert/pkey in turnserver.conf); run with --insecure to skip this.`
        : `Nothing answers on ${url.host}:${url.port}/${proto === 'UDP' ? 'udp' : 'tcp'}: is ${id === 'turn' ? 'coturn' : 'the server'} running with listening-port${url.secure ? '/tls-listening-port' : ''} ${url.port}, and is ${proto === 'UDP' ? 'UDP' : 'TCP'} ${url.port} open in the firewall (and reachable from this network)?`;
  return { id, name, status: 'fail', detail: `unreachable: ${e.message}`, fix, cause: e.kind === 'tls' ? 'tls' : 'unreachable' };
}

/** A 401 on the authenticated Allocate: an expired credential or a secret coturn does not share. */
function refusedCheck(name: string, creds: Credentials, now: number, serverSkewMs: number | null): Check {
  const match = /^(\d+):/.exec(creds.username);
  const expiresAt = match ? Number(match[1]) * 1000 : null;
  if (expiresAt !== null && expiresAt <= now) {
    return {
      id: 'turn',
      name,
      status: 'fail',
      cause: 'credentials-expired',
      detail: `credentials refused (401 Unauthorized): the credential expired ${fmtDuration((now - expiresAt) / 1000)} ago (username "${creds.username}")${serverSkewMs !== null && serverSkewMs < -30_000 ? `; the Switchboard server's clock is ${fmtDuration(-serverSkewMs / 1000)} behind` : ''}`,
      fix: 'Expired TURN credential: synchronise the clocks of the Switchboard and coturn hosts (NTP); clients refresh credentials through `ice` frames, so a longer ice.turnTtlSeconds only hides a clock problem.',
    };
  }
  return {
    id: 'turn',
    name,
    status: 'fail',
    cause: 'credentials-rejected',
    detail: `credentials refused (401 Unauthorized) although they are valid for ${expiresAt === null ? '?' : fmtDuration((expiresAt - now) / 1000)} more: the shared secret differs`,
    fix: "Wrong TURN secret: coturn's static-auth-secret must be one of Switchboard's ice.turnSecrets (the first one signs; switchboard turn-config prints a matching turnserver.conf), and coturn must run with use-auth-secret. A TURN host clock far ahead of the Switchboard host gives the same 401.",
  };
}
