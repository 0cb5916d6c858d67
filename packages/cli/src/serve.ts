import { fileURLToPath } from 'node:url';
/** `switchboard serve`: run the server until SIGINT/SIGTERM, then shut down gracefully. */
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ClusterStartError,
  createServer,
  lanAddresses,
  redactUrl,
  StartupError,
  type ListenAddress,
  type SwitchboardConfig,
  type SwitchboardConfigInput,
  type SwitchboardServer,
} from '@switchboard/server';
import { EXIT_REDIS_UNREACHABLE, EXIT_STARTUP, parseArgsError, UsageError } from './errors.js';
import { CONFIG_OPTIONS, numberish, readConfigWithSources } from './options.js';
import { SERVE_USAGE } from './usage.js';

const OPTIONS = {
  ...CONFIG_OPTIONS,
  port: { type: 'string' },
  host: { type: 'string' },
  http: { type: 'boolean' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'no-guests': { type: 'boolean' },
  static: { type: 'string' },
  'log-level': { type: 'string' },
  redis: { type: 'string' },
  jwks: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export { EXIT_REDIS_UNREACHABLE, EXIT_STARTUP };

export const SERVE_CLUSTER_USAGE = `
Cluster (several nodes behind any load balancer, no sticky sessions; see docs/cluster.md):
  --redis URL         Join the cluster on this Redis (redis:// or rediss://; also SWITCHBOARD_REDIS).
                      Every node needs the same --secret. cluster.heartbeatMs (default 2000) and
                      cluster.nodeTimeoutMs (default 10000): a node silent that long is dropped.
                      Exit code 3 when Redis cannot be reached at start.
`;

/** The built demo app: apps/demo builds into this package's dist/demo/ (see apps/demo/vite.config.ts). */
function demoDir(): string | null {
  const dist = fileURLToPath(new URL('./demo/', import.meta.url));
  return existsSync(join(dist, 'index.html')) ? dist : null;
}

export function serveConfig(args: string[], env: NodeJS.ProcessEnv = process.env): SwitchboardConfig | null {
  return serveSetup(args, env)?.config ?? null;
}

/** The settings `serve` runs with, and where each came from (null for --help). */
export function serveSetup(args: string[], env: NodeJS.ProcessEnv = process.env): { config: SwitchboardConfig; sourceOf: (path: string) => string } | null {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    parseArgsError(err, 'serve');
  }
  if (values.help) return null;
  if (values.http && (values.cert || values.key)) throw new UsageError('--http cannot be combined with --cert/--key.', 'serve');
  if (Boolean(values.cert) !== Boolean(values.key)) throw new UsageError('--cert and --key go together.', 'serve');
  const flags: SwitchboardConfigInput = {};
  if (values.port !== undefined) flags.port = numberish(values.port) as number;
  if (values.host !== undefined) flags.host = values.host;
  if (values.http) flags.tls = { mode: 'off' };
  if (values.cert && values.key) flags.tls = { mode: 'files', cert: resolve(values.cert), key: resolve(values.key) };
  if (values['no-guests']) flags.guests = false;
  if (values.static !== undefined) flags.staticDir = resolve(values.static);
  if (values['log-level'] !== undefined) flags.logLevel = values['log-level'] as SwitchboardConfig['logLevel'];
  if (values.redis !== undefined) flags.redis = values.redis;
  if (values.jwks !== undefined) flags.auth = { jwks: values.jwks };
  const flagNames: Record<string, string> = {
    port: '--port',
    host: '--host',
    'tls.mode': values.http ? '--http' : '--cert/--key',
    'tls.cert': '--cert',
    'tls.key': '--key',
    guests: '--no-guests',
    staticDir: '--static',
    logLevel: '--log-level',
    redis: '--redis',
    'auth.jwks': '--jwks',
  };
  const { config, sourceOf } = readConfigWithSources(values, flags, env, flagNames);
  if (config.staticDir === null) {
    const demo = demoDir();
    if (demo) config.staticDir = demo;
  }
  try {
    refuseServedConfigFile(values.config || env['SWITCHBOARD_CONFIG'] || null, config.staticDir);
  } catch (err) {
    if (err instanceof StartupError) failStart(`${err.message} (from ${sourceOf(err.setting)})`, EXIT_STARTUP);
    throw err;
  }
  return { config, sourceOf };
}

/**
 * A config file may hold secrets (auth.secrets, ice.turnSecrets), and the server does not know
 * its path, so static hosting cannot exclude it: refuse to start while it would be served.
 */
function refuseServedConfigFile(file: string | null, staticDir: string | null): void {
  if (file === null || staticDir === null) return;
  const rel = relative(resolve(staticDir), resolve(file));
  const outside = rel.startsWith('..') || isAbsolute(rel);
  if (outside || rel.split(sep).some((segment) => segment.startsWith('.'))) return;
  throw new StartupError(
    'staticDir',
    `${staticDir} contains the config file ${file}, which may hold secrets and would be served; ` + 'move the file out or give it a name starting with "."',
  );
}

/** One plain line naming the setting and where it came from, then the documented exit code. */
function failStart(line: string, code: number): never {
  process.stderr.write(`switchboard serve: ${line}\n`);
  process.exit(code);
}

export function banner(config: SwitchboardConfig, address: ListenAddress, node: string): string {
  const lines: string[] = [];
  const base = `${address.protocol}://`;
  const ws = address.protocol === 'https' ? 'wss://' : 'ws://';
  const wildcard = config.host === '0.0.0.0' || config.host === '::';
  const localHost = wildcard || config.host === '127.0.0.1' || config.host === 'localhost' ? 'localhost' : config.host;
  lines.push(`Switchboard is running (node ${node})`);
  lines.push(`  Local:     ${base}${localHost}:${address.port}/`);
  if (wildcard) for (const ip of lanAddresses()) lines.push(`  Network:   ${base}${ip}:${address.port}/`);
  lines.push(`  Realtime:  ${ws}${localHost}:${address.port}/v1/realtime`);
  lines.push(`  Health:    ${base}${localHost}:${address.port}/healthz`);
  if (address.protocol === 'https' && config.tls.mode === 'self-signed') {
    lines.push(`  TLS:       self-signed certificate ${address.certPath}`);
    lines.push(`             SHA-256 ${address.fingerprint}`);
    lines.push('             Browsers will ask you to accept it once (or use --cert/--key, or --http on localhost).');
  }
  lines.push(`  Guests:    ${config.guests ? 'allowed (POST /v1/guest)' : 'disabled'}`);
  if (address.stunPort !== null) lines.push(`  STUN:      UDP ${address.stunPort}, handed to clients as their STUN server (stun.*)`);
  if (config.redis !== null) {
    const { heartbeatMs, nodeTimeoutMs } = config.cluster;
    lines.push(`  Cluster:   Redis ${redactUrl(config.redis)} (heartbeat ${heartbeatMs} ms, a silent node is dropped after ${nodeTimeoutMs} ms)`);
  }
  lines.push(`  App:       ${config.staticDir ? `serving ${config.staticDir}` : 'no static directory (use --static DIR)'}`);
  lines.push('Press Ctrl+C to stop.');
  return `${lines.join('\n')}\n`;
}

export async function serve(args: string[]): Promise<void> {
  const setup = serveSetup(args);
  if (!setup) {
    process.stdout.write(SERVE_USAGE + SERVE_CLUSTER_USAGE);
    return;
  }
  const { config, sourceOf } = setup;
  let server: SwitchboardServer;
  let address: ListenAddress;
  try {
    server = createServer(config);
    address = await server.listen();
  } catch (err) {
    if (err instanceof StartupError) failStart(`${err.message} (from ${sourceOf(err.setting)})`, EXIT_STARTUP);
    if (err instanceof ClusterStartError) failStart(`redis: ${err.message} (from ${sourceOf('redis')})`, EXIT_REDIS_UNREACHABLE);
    throw err;
  }
  process.stdout.write(banner(config, address, server.node));

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`Received ${signal} again; exiting now.\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`Received ${signal}; closing connections...\n`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`Shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
