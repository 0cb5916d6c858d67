/**
 * `switchboard turn-config`: prints a coturn configuration (turnserver.conf) that matches the
 * server's `ice` settings: the TURN REST secret(s) (`use-auth-secret`, one
 * `static-auth-secret` per secret so rotation works), the realm, the ports of the turn:/turns:
 * URLs (TLS on the turns: port, 443 recommended), the relay port range, and denied peer ranges
 * (private, loopback, link-local, CGNAT, multicast…) so the relay cannot reach inside the
 * network it runs in.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, type SwitchboardConfig } from '@switchboard/server';
import { parseArgsError, UsageError } from '../errors.js';
import { readConfig } from '../options.js';
import { isIpLiteral, parseIceUrl, type IceUrl } from './ice-urls.js';

export const TURN_CONFIG_USAGE = `Usage: switchboard turn-config [options] > /etc/turnserver.conf

Prints a coturn configuration matching this server's ice settings (ice.turn, ice.turnSecrets):
REST auth with every secret (rotation), realm, ports, relay range, denied private peer ranges,
TLS on the turns: port. Read the settings like "switchboard serve" does (file, env, flags).

Options:
  --config FILE        JSON config file (also SWITCHBOARD_CONFIG); SWITCHBOARD_ICE_* env works too
  --realm R            Realm (default: the host name of the first TURN URL)
  --external-ip IP     Public address, or PUBLIC/PRIVATE when coturn is behind NAT (1:1)
  --listening-ip IP    Address to listen on (repeatable; default: all)
  --relay-ip IP        Address to relay from (repeatable; default: the listening ones)
  --min-port N         Relay port range start (default 49152)
  --max-port N         Relay port range end (default 65535)
  --cert FILE          TLS certificate for turns: (default /etc/letsencrypt/live/<host>/fullchain.pem)
  --pkey FILE          TLS private key for turns: (default /etc/letsencrypt/live/<host>/privkey.pem)
  -h, --help           Show this help
`;

const OPTIONS = {
  config: { type: 'string' },
  realm: { type: 'string' },
  'external-ip': { type: 'string' },
  'listening-ip': { type: 'string', multiple: true },
  'relay-ip': { type: 'string', multiple: true },
  'min-port': { type: 'string' },
  'max-port': { type: 'string' },
  cert: { type: 'string' },
  pkey: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Peers a relay must never reach (RFC 6890 special-purpose ranges): otherwise anyone with
 * credentials can use the TURN server as a proxy into its own network.
 */
export const DENIED_PEER_RANGES: readonly string[] = [
  '0.0.0.0-0.255.255.255', // "this" network
  '10.0.0.0-10.255.255.255', // private
  '100.64.0.0-100.127.255.255', // carrier-grade NAT
  '127.0.0.0-127.255.255.255', // loopback
  '169.254.0.0-169.254.255.255', // link-local (cloud metadata 169.254.169.254)
  '172.16.0.0-172.31.255.255', // private
  '192.0.0.0-192.0.0.255', // IETF protocol assignments
  '192.0.2.0-192.0.2.255', // TEST-NET-1
  '192.88.99.0-192.88.99.255', // 6to4 relay anycast
  '192.168.0.0-192.168.255.255', // private
  '198.18.0.0-198.19.255.255', // benchmarking
  '198.51.100.0-198.51.100.255', // TEST-NET-2
  '203.0.113.0-203.0.113.255', // TEST-NET-3
  '224.0.0.0-255.255.255.255', // multicast, reserved, broadcast
  '::1', // IPv6 loopback
  '::ffff:0:0-::ffff:ffff:ffff', // IPv4-mapped IPv6 (would bypass the IPv4 rules)
  '64:ff9b::-64:ff9b::ffff:ffff', // NAT64
  '100::-100::ffff:ffff:ffff:ffff', // discard-only
  '2001::-2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff', // TEREDO, ORCHID, benchmarking
  '2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff', // 6to4
  'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', // unique local
  'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', // link-local
];

export interface TurnConfigOptions {
  realm?: string | undefined;
  externalIp?: string | undefined;
  listeningIps?: string[] | undefined;
  relayIps?: string[] | undefined;
  minPort?: number | undefined;
  maxPort?: number | undefined;
  cert?: string | undefined;
  pkey?: string | undefined;
}

function inDeniedRange(ip: string): boolean {
  if (ip.includes(':')) return /^(::1$|f[cd]|fe[89ab])/i.test(ip);
  const n = ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
  return DENIED_PEER_RANGES.filter((r) => !r.includes(':')).some((range) => {
    const [lo, hi] = range.split('-').map((s) => s.split('.').reduce((acc, part) => acc * 256 + Number(part), 0)) as [number, number];
    return n >= lo && n <= hi;
  });
}

/** The turnserver.conf text for these settings. Throws ConfigError when ice.turn is not set up. */
export function coturnConfig(ice: SwitchboardConfig['ice'], options: TurnConfigOptions = {}): string {
  if (ice.turn.length === 0 || ice.turnSecrets.length === 0) {
    throw new ConfigError([
      {
        path: 'ice.turn',
        message:
          'no TURN URLs configured. Set ice.turn and ice.turnSecrets first, e.g. ' +
          'SWITCHBOARD_ICE_TURN="turn:turn.example.com:3478?transport=udp,turn:turn.example.com:3478?transport=tcp,turns:turn.example.com:443?transport=tcp" ' +
          'SWITCHBOARD_ICE_TURN_SECRETS="$(openssl rand -hex 32)"',
      },
    ]);
  }
  const urls: IceUrl[] = ice.turn.map((u) => {
    try {
      return parseIceUrl(u);
    } catch (err) {
      throw new ConfigError([{ path: 'ice.turn', message: (err as Error).message }]);
    }
  });
  const plain = urls.filter((u) => !u.secure);
  const tls = urls.filter((u) => u.secure);
  const plainPorts = [...new Set(plain.map((u) => u.port))];
  const tlsPorts = [...new Set(tls.map((u) => u.port))];
  const hosts = [...new Set(urls.map((u) => u.host))];
  const host = hosts[0]!;
  const realm = options.realm ?? host;
  const minPort = options.minPort ?? 49152;
  const maxPort = options.maxPort ?? 65535;
  if (minPort > maxPort) throw new UsageError(`--min-port ${minPort} is above --max-port ${maxPort}.`, 'turn-config');
  const transports = plain.map((u) => u.transport);

  const lines: string[] = [];
  const out = (...l: string[]) => lines.push(...l);
  out(
    "# turnserver.conf for coturn, generated by `switchboard turn-config` to match Switchboard's",
    `# ice settings: ${ice.turn.join(' ')}`,
    `# Credentials: TURN REST ("<expiry>:<user_id>", HMAC-SHA1), minted per connection, valid ${ice.turnTtlSeconds} s.`,
    '',
    '# --- Ports',
  );
  if (plainPorts.length > 0) {
    out(`listening-port=${plainPorts[0]}`);
    if (plainPorts.length > 1) out(`# WARNING: ice.turn uses several plain ports (${plainPorts.join(', ')}); coturn serves one listening-port.`);
    if (!transports.includes('tcp')) out('# ice.turn has no ?transport=tcp URL: clients on networks that block UDP cannot relay.');
  } else {
    out('# No turn: URL (plain UDP/TCP) in ice.turn; coturn still listens on 3478 for STUN.', 'listening-port=3478');
  }
  if (tlsPorts.length > 0) {
    out(`tls-listening-port=${tlsPorts[0]}`);
    if (tlsPorts.length > 1) out(`# WARNING: ice.turn uses several turns: ports (${tlsPorts.join(', ')}); coturn serves one tls-listening-port.`);
    if (tlsPorts[0]! < 1024)
      out(
        `# Port ${tlsPorts[0]} < 1024: coturn needs CAP_NET_BIND_SERVICE (AmbientCapabilities in its systemd unit), and nothing else on ${host}:${tlsPorts[0]}.`,
      );
    const tlsHost = tls[0]!.host;
    out(
      `cert=${options.cert ?? `/etc/letsencrypt/live/${tlsHost}/fullchain.pem`}`,
      `pkey=${options.pkey ?? `/etc/letsencrypt/live/${tlsHost}/privkey.pem`}`,
      `# The certificate must be valid for ${tlsHost}: browsers check it for turns: URLs.`,
      'no-tlsv1',
      'no-tlsv1_1',
      'no-dtls',
    );
  } else {
    out(
      '# No turns: URL: TLS is off. Networks that only allow HTTPS out need TURN over TLS on 443:',
      `# add "turns:${isIpLiteral(host) ? 'turn.example.com' : host}:443?transport=tcp" to ice.turn, run this again, and`,
      '# give coturn a certificate (cert=/pkey=).',
      'no-tls',
      'no-dtls',
    );
  }
  out('', '# --- Addresses');
  if (options.listeningIps && options.listeningIps.length > 0) for (const ip of options.listeningIps) out(`listening-ip=${ip}`);
  else out('# listening-ip: all addresses (set listening-ip=… to restrict)');
  if (options.relayIps && options.relayIps.length > 0) for (const ip of options.relayIps) out(`relay-ip=${ip}`);
  if (options.externalIp) out(`external-ip=${options.externalIp}`);
  else out('# Behind NAT (most clouds): external-ip=<public IP>/<private IP>, or relay addresses are unreachable.');
  out(
    '',
    '# --- Relay ports: open UDP (and TCP for TCP relays) min-port..max-port in the firewall, plus the ports above.',
    `min-port=${minPort}`,
    `max-port=${maxPort}`,
    '',
    "# --- Authentication: TURN REST API with Switchboard's shared secret(s).",
    '# Every secret is accepted; Switchboard signs with the first (ice.turnSecrets), so rotation is:',
    '# add the new secret second, deploy both, move it first, then drop the old one.',
    'use-auth-secret',
    ...ice.turnSecrets.map((s) => `static-auth-secret=${s}`),
    `realm=${realm}`,
    'fingerprint',
    'stale-nonce=600',
    '',
    '# --- Security: no relaying into private, loopback, link-local or multicast ranges.',
    'no-multicast-peers',
    ...DENIED_PEER_RANGES.map((r) => `denied-peer-ip=${r}`),
  );
  const privateRelays = (options.relayIps ?? []).filter((ip) => !ip.includes(':') && inDeniedRange(ip));
  if (privateRelays.length > 0) {
    out("# The relay addresses themselves stay allowed, so two clients of this server can reach each other's relay:");
    for (const ip of privateRelays) out(`allowed-peer-ip=${ip}`);
  }
  if (options.externalIp) {
    const priv = options.externalIp.split('/')[1];
    if (priv && inDeniedRange(priv)) out(`allowed-peer-ip=${priv}`);
  }
  out(
    'no-cli',
    'no-software-attribute',
    'no-rfc5780',
    'no-stun-backward-compatibility',
    '',
    '# --- Logging (stdout goes to the journal under systemd)',
    'log-file=stdout',
    'simple-log',
    '',
  );
  return lines.join('\n');
}

function port(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`${flag}: expected a port between 1 and 65535, got "${value}".`, 'turn-config');
  return n;
}

/** Parses the flags and reads the server configuration; null for --help. */
export function turnConfig(args: string[], env: NodeJS.ProcessEnv = process.env): string | null {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    parseArgsError(err, 'turn-config');
  }
  if (values.help) return null;
  const config = readConfig({ config: values.config }, {}, env);
  return coturnConfig(config.ice, {
    realm: values.realm,
    externalIp: values['external-ip'],
    listeningIps: values['listening-ip'],
    relayIps: values['relay-ip'],
    minPort: port(values['min-port'], '--min-port'),
    maxPort: port(values['max-port'], '--max-port'),
    cert: values.cert === undefined ? undefined : resolve(values.cert),
    pkey: values.pkey === undefined ? undefined : resolve(values.pkey),
  });
}

export async function turnConfigCommand(args: string[]): Promise<void> {
  const text = turnConfig(args);
  process.stdout.write(text ?? TURN_CONFIG_USAGE);
}
