/**
 * The server POSTs to whatever endpoint a client subscribed, so an endpoint is a request any user
 * (guests included) can aim at the server's own network: a cloud metadata service, Redis on
 * loopback, an admin panel on 10.x. Unless `push.allowPrivateEndpoints` is set, an endpoint must
 * reach a public address: IP literals and `localhost` are refused at subscribe, and names are
 * checked again at connect time on the addresses DNS gives (a name that resolved publicly at
 * subscribe may not later: DNS rebinding).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { Agent, type AgentOptions } from 'node:https';
import { BlockList, isIP } from 'node:net';

const nonPublic = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  nonPublic.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  nonPublic.addSubnet(net, prefix, 'ipv6');
}

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return !nonPublic.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Why this endpoint may not be used (a sentence for the client), or null when it may. */
export function endpointRefusal(endpoint: string, allowPrivate: boolean): string | null {
  if (!URL.canParse(endpoint)) return 'is not a URL';
  const url = new URL(endpoint);
  if (url.protocol !== 'https:') return 'must be an https:// URL';
  if (allowPrivate) return null;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return 'names this machine, not a push service';
  if (isIP(host) !== 0 && !isPublicAddress(host)) return 'points at a private, loopback or link-local address, not a push service';
  return null;
}

export class PrivateAddressError extends Error {
  readonly code = 'EPUSHPRIVATE';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup, failing when any address a name resolves to is not public (net.connect then fails before a byte is sent). */
function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad) return callback(new PrivateAddressError(`${hostname} resolves to ${bad.address}, not a public address`), []);
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
}

/** The agent pushes go through when no agent is given: kept-alive sockets, public addresses only. */
export function publicOnlyAgent(options: AgentOptions = {}): Agent {
  return new Agent({ keepAlive: true, maxSockets: 64, ...options, lookup: publicOnlyLookup as AgentOptions['lookup'] });
}
