/**
 * `switchboard doctor <url>`: checks a Switchboard deployment from where it runs, the way a
 * client would see it: HTTP, auth (a token or a guest), the realtime WebSocket and its
 * welcome, the ICE servers the server hands out, every STUN server (Binding; the server's own
 * STUN responder is named as such), every TURN URL
 * (Allocate with the minted REST credentials over UDP, TCP or TLS), relay-only gathering with
 * a real WebRTC stack (node-datachannel), and data through the relay between two relay-only
 * peers. Prints a plain report that says what to fix; exits 1 when a check failed.
 *
 * This file is the command and the order of the checks; the checks live in ./doctor/.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseArgsError, UsageError } from '../errors.js';
import { baseUrl } from './doctor/http.js';
import { checkIceServers, checkTurnCredentials } from './doctor/ice-config.js';
import { CheckList, formatCheck, formatReport, type Check, type CheckContext, type DoctorReport } from './doctor/report.js';
import { checkAuth, checkIceEndpoint, checkServer, checkWebSocket } from './doctor/server-checks.js';
import { checkRelayWithWebRtc } from './doctor/relay-checks.js';
import { checkStunServers, checkTurnAllocations, ownStunUrls } from './doctor/stun-turn-checks.js';
import { defaultCaFile, displayPath, isLocalHost, loadCa } from './doctor/trust.js';

export { formatReport, type Check, type DoctorReport, type Status } from './doctor/report.js';

export const DOCTOR_USAGE = `Usage: switchboard doctor <url> [options]

Checks a Switchboard server as a client sees it: HTTP, auth, the realtime WebSocket, the ICE
servers it hands out, STUN reachability, a TURN allocation with the minted credentials (UDP,
TCP, TLS), relay-only gathering with node-datachannel and data through the relay.

  <url>               The server, e.g. https://switchboard.example.com (ws:// and wss:// work too)

Options:
  --token T           Authenticate with this JWT (default: a guest token from POST /v1/guest)
  --ca FILE           Also trust this CA / self-signed certificate (PEM). Default: the server's
                      ./.switchboard/tls/cert.pem when it exists here (switchboard serve's own)
  --insecure          Accept any TLS certificate (self-signed servers, turns: without a valid cert)
  --timeout MS        Time limit per check (default 5000)
  --allow-no-turn     A server without TURN is a warning, not a failure (LAN-only deployments;
                      the default for localhost, private and .local addresses)
  --json              Print the report as JSON
  -h, --help          Show this help

Exit code: 0 when every check passed (warnings allowed), 1 when one failed, 2 on bad usage.
`;

const OPTIONS = {
  token: { type: 'string' },
  insecure: { type: 'boolean' },
  ca: { type: 'string' },
  timeout: { type: 'string' },
  'allow-no-turn': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface DoctorOptions {
  url: string;
  token?: string | null;
  insecure?: boolean;
  /** A PEM file to trust on top of the system roots (a self-signed server's cert.pem). */
  caFile?: string | null;
  timeoutMs?: number;
  /** No TURN is a warning rather than a failure; default: only for a server on this machine or the LAN. */
  allowNoTurn?: boolean;
  /** Local address for node-datachannel's sockets (tests on loopback). */
  bindAddress?: string;
  /** Progress, one check at a time (the CLI prints as it goes). */
  onCheck?: (check: Check) => void;
}

/**
 * Runs every check; never throws for a failed check (only for bad options). Stops early when
 * a later check could only repeat the failure (no server, no token, no ICE servers).
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const base = baseUrl(options.url);
  const checks = new CheckList(options.onCheck);
  const caFile = options.caFile ?? null;
  const ctx: CheckContext = {
    base,
    insecure: options.insecure ?? false,
    timeoutMs: options.timeoutMs ?? 5000,
    add: (check) => checks.add(check),
    ...(caFile ? { ca: loadCa(caFile), caFile: displayPath(caFile) } : {}),
  };
  const report = () => checks.report(base.href);

  const server = await checkServer(ctx);
  if (!server) return report();
  const token = await checkAuth(ctx, options.token ?? null);
  if (token === null) return report();
  const iceServers = await checkIceEndpoint(ctx, token, await checkWebSocket(ctx, token));
  if (!iceServers) return report();

  const { stun, turn } = checkIceServers(ctx, iceServers, options.allowNoTurn ?? isLocalHost(base.hostname));
  // One "now" for every expiry verdict, so the credentials check and a 401 from coturn agree.
  const now = Date.now();
  checkTurnCredentials(ctx, turn, now, server.serverSkewMs);
  await checkStunServers(ctx, stun, { own: await ownStunUrls(base, stun), hasTurn: turn.length > 0 });
  const allocated = await checkTurnAllocations(ctx, turn, now, server.serverSkewMs);
  if (turn.length > 0) await checkRelayWithWebRtc(ctx, allocated, options.bindAddress);
  return report();
}

export interface DoctorArgs {
  options: DoctorOptions;
  json: boolean;
}

export function doctorArgs(args: string[]): DoctorArgs | null {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (err) {
    parseArgsError(err, 'doctor');
  }
  const { values, positionals } = parsed;
  if (values.help) return null;
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'the server URL is required.' : 'give one server URL.', 'doctor');
  let timeoutMs = 5000;
  if (values.timeout !== undefined) {
    timeoutMs = Number(values.timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100)
      throw new UsageError(`--timeout: expected a whole number of milliseconds ≥ 100, got "${values.timeout}".`, 'doctor');
  }
  baseUrl(positionals[0]!); // usage errors before any network
  const caFile = values.ca !== undefined ? resolve(values.ca) : defaultCaFile();
  if (caFile) loadCa(caFile);
  return {
    options: {
      url: positionals[0]!,
      token: values.token ?? null,
      insecure: values.insecure ?? false,
      caFile,
      timeoutMs,
      ...(values['allow-no-turn'] ? { allowNoTurn: true } : {}),
    },
    json: values.json ?? false,
  };
}

export async function doctorCommand(args: string[]): Promise<void> {
  const parsed = doctorArgs(args);
  if (!parsed) {
    process.stdout.write(DOCTOR_USAGE);
    return;
  }
  if (!parsed.json) process.stdout.write(`Switchboard doctor: ${baseUrl(parsed.options.url).href}\n`);
  const report = await runDoctor({ ...parsed.options, onCheck: parsed.json ? undefined : (c) => process.stdout.write(formatCheck(c)) });
  process.stdout.write(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, false));
  // node-datachannel's threads keep the process alive: leave explicitly.
  process.exit(report.ok ? 0 : 1);
}
