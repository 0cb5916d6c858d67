import { fileURLToPath } from 'node:url';
/** `switchboard serve`: run the server until SIGINT/SIGTERM, then shut down gracefully. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ClusterStartError, createServer, lanAddresses, redactUrl, type ListenAddress, type SwitchboardConfig, type SwitchboardConfigInput,
} from '@switchboard/server';
import { parseArgsError, UsageError } from './errors.js';
import { CONFIG_OPTIONS, numberish, readConfig } from './options.js';
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

/** Exit code when Redis cannot be reached at start (usage/config errors are 2, others 1). */
export const EXIT_REDIS_UNREACHABLE = 3;

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
  const config = readConfig(values, flags, env);
  if (config.staticDir === null) {
    const demo = demoDir();
    if (demo) config.staticDir = demo;
  }
  return config;
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
  if (config.redis !== null) {
    const { heartbeatMs, nodeTimeoutMs } = config.cluster;
    lines.push(`  Cluster:   Redis ${redactUrl(config.redis)} (heartbeat ${heartbeatMs} ms, a silent node is dropped after ${nodeTimeoutMs} ms)`);
  }
  lines.push(`  App:       ${config.staticDir ? `serving ${config.staticDir}` : 'no static directory (use --static DIR)'}`);
  lines.push('Press Ctrl+C to stop.');
  return `${lines.join('\n')}\n`;
}

export async function serve(args: string[]): Promise<void> {
  const config = serveConfig(args);
  if (!config) {
    process.stdout.write(SERVE_USAGE + SERVE_CLUSTER_USAGE);
    return;
  }
  const server = createServer(config);
  let address: ListenAddress;
  try {
    address = await server.listen();
  } catch (err) {
    if (!(err instanceof ClusterStartError)) throw err;
    process.stderr.write(`switchboard serve: ${err.message}\n`);
    process.exit(EXIT_REDIS_UNREACHABLE);
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
