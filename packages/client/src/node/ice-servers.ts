/**
 * W3C `RTCIceServer[]` → node-datachannel's native ICE server list.
 *
 * node-datachannel's polyfill turns `{ urls: 'turn:host', username, credential }` into
 * `turn:username:credential@host`, which libdatachannel cannot parse when the username
 * holds a `:` (every TURN REST username does: "<expiry>:<user_id>"). The native
 * `{ hostname, port, username, password, relayType }` form has no such problem.
 */
import type { IceServer as NativeIceServer, RelayType } from 'node-datachannel';

const ICE_URL = /^(stuns?|turns?):(\[[0-9a-fA-F:.]+\]|[^:?/\s]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/i;

export interface ParsedIceUrl {
  scheme: 'stun' | 'stuns' | 'turn' | 'turns';
  hostname: string;
  port: number;
  transport: 'udp' | 'tcp' | null;
}

export function parseIceUrl(url: string): ParsedIceUrl {
  const match = ICE_URL.exec(url.trim());
  if (!match) throw new DOMException(`Unsupported ICE server URL ${JSON.stringify(url)}.`, 'SyntaxError');
  const scheme = match[1]!.toLowerCase() as ParsedIceUrl['scheme'];
  const secure = scheme === 'stuns' || scheme === 'turns';
  const hostname = match[2]!.replace(/^\[(.*)\]$/, '$1');
  const port = match[3] === undefined ? (secure ? 5349 : 3478) : Number(match[3]);
  const transport = (match[4]?.toLowerCase() ?? null) as ParsedIceUrl['transport'];
  return { scheme, hostname, port, transport };
}

function relayType(url: ParsedIceUrl): RelayType {
  if (url.scheme === 'turns') return 'TurnTls';
  return url.transport === 'tcp' ? 'TurnTcp' : 'TurnUdp';
}

/** One native entry per URL; STUN URLs stay strings, TURN URLs become objects with the credentials. */
export function nativeIceServers(servers: readonly RTCIceServer[] | undefined): (string | NativeIceServer)[] {
  const out: (string | NativeIceServer)[] = [];
  for (const server of servers ?? []) {
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    for (const raw of urls) {
      const url = parseIceUrl(raw);
      if (url.scheme === 'stun' || url.scheme === 'stuns') {
        out.push({ hostname: url.hostname, port: url.port });
        continue;
      }
      if (typeof server.username !== 'string' || typeof server.credential !== 'string' || !server.username || !server.credential) {
        throw new DOMException(`The TURN server ${raw} needs a username and a credential.`, 'InvalidAccessError');
      }
      out.push({ hostname: url.hostname, port: url.port, username: server.username, password: server.credential, relayType: relayType(url) });
    }
  }
  return out;
}
