/**
 * STUN/TURN URLs (RFC 7064 / RFC 7065) as Switchboard's `ice.stun` / `ice.turn` settings hold
 * them: `stun:host[:port]`, `turn:host[:port][?transport=udp|tcp]`, `turns:host[:port][?transport=tcp]`.
 */

export type IceScheme = 'stun' | 'stuns' | 'turn' | 'turns';
export type IceTransport = 'udp' | 'tcp';

export interface IceUrl {
  /** The URL as configured. */
  url: string;
  scheme: IceScheme;
  /** Host name or address (IPv6 without brackets). */
  host: string;
  port: number;
  /** udp for stun:/turn: without ?transport, tcp for stuns:/turns:. */
  transport: IceTransport;
  /** stuns:/turns: (TLS over TCP). */
  secure: boolean;
}

const DEFAULT_PORT: Record<IceScheme, number> = { stun: 3478, turn: 3478, stuns: 5349, turns: 5349 };

/** Parses one ICE URL; throws an Error naming the problem. */
export function parseIceUrl(url: string): IceUrl {
  const match = /^(stuns?|turns?):(\[[0-9a-fA-F:.]+\]|[^:?\s[\]]+)(?::(\d+))?(?:\?(.*))?$/i.exec(url.trim());
  if (!match) throw new Error(`"${url}" is not a STUN/TURN URL (expected e.g. turn:turn.example.com:3478?transport=udp)`);
  const scheme = match[1]!.toLowerCase() as IceScheme;
  const rawHost = match[2]!;
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  const port = match[3] === undefined ? DEFAULT_PORT[scheme] : Number(match[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${url}": port ${match[3]} is out of range`);
  const secure = scheme === 'stuns' || scheme === 'turns';
  let transport: IceTransport = secure ? 'tcp' : 'udp';
  const query = match[4];
  if (query !== undefined && query !== '') {
    for (const part of query.split('&')) {
      const [key, value = ''] = part.split('=');
      if (key?.toLowerCase() !== 'transport') continue;
      const t = value.toLowerCase();
      if (t !== 'udp' && t !== 'tcp') throw new Error(`"${url}": transport must be udp or tcp, got "${value}"`);
      if (secure && t === 'udp') throw new Error(`"${url}": ${scheme}: runs over TLS, so transport=udp is not possible`);
      transport = t;
    }
  }
  return { url, scheme, host, port, transport, secure };
}

export const isTurn = (u: IceUrl): boolean => u.scheme === 'turn' || u.scheme === 'turns';

/** "UDP", "TCP" or "TLS": how a client reaches the server behind this URL. */
export function transportLabel(u: IceUrl): 'UDP' | 'TCP' | 'TLS' {
  return u.secure ? 'TLS' : u.transport === 'tcp' ? 'TCP' : 'UDP';
}

/** node-datachannel's relay type for a TURN URL. */
export function relayType(u: IceUrl): 'TurnUdp' | 'TurnTcp' | 'TurnTls' {
  return u.secure ? 'TurnTls' : u.transport === 'tcp' ? 'TurnTcp' : 'TurnUdp';
}

/** IPv4 or IPv6 literal (not a name). */
export function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}
