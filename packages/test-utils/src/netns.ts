/**
 * Network namespaces for browser / TURN / network-failure tests (root only, iproute2).
 * Every namespace starts with only `lo` up, gets a
 * unique name per test process (`sbt-<pid>-<n>[-label]`), and is deleted by `delete()`, by
 * `deleteAllNetns()` (put it in afterAll) or, at the latest, when the process exits.
 * Namespaces left behind by a crashed run (its pid is gone) are removed on first use.
 *
 * Topologies:
 *   (a) createNetns()           one namespace, only lo: Chromium gathers 127.0.0.1 host candidates
 *   (b) createLinkedPair()      A ── veth ── B (10.77.1.1 / 10.77.1.2), link.down() / link.up()
 *   (c) createRelayTopology()   A ── T ── B: A and B each reach only T (no forwarding in T), so
 *                               media between A and B can only flow through a TURN server in T
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onExit } from './cleanup.js';
import { CHROMIUM_PATH } from './requirements.js';

export interface ExecResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface Netns {
  readonly name: string;
  /** An executable that runs Chromium inside this namespace: pass it as Playwright's executablePath. */
  readonly chromiumPath: string;
  /** Runs a command inside the namespace and returns its stdout; throws (with stderr) on failure. */
  exec(command: string, args?: readonly string[], options?: { input?: string; timeoutMs?: number }): string;
  /** Like exec, but never throws. */
  tryExec(command: string, args?: readonly string[], options?: { input?: string; timeoutMs?: number }): ExecResult;
  /** `[file, args]` to spawn `command args` inside the namespace (`ip netns exec NAME command args`). */
  wrap(command: string, args?: readonly string[]): [string, string[]];
  /** IPv4 addresses configured in the namespace (lo included). */
  addresses(): string[];
  /** Whether the routing table has a route to `ip` (`ip route get`); false: "Network is unreachable". */
  hasRoute(ip: string): boolean;
  /**
   * Whether a TCP connection from this namespace to ip:port completes within `timeoutSeconds`
   * (default 2). These machines have no `ping`: pair it with a listener in the other namespace.
   */
  tcpConnects(ip: string, port: number, timeoutSeconds?: number): boolean;
  /** Deletes the namespace (its interfaces go with it). Idempotent. */
  delete(): void;
}

export interface VethLink {
  /** Interface names: [in the first namespace, in the second]. */
  readonly devices: readonly [string, string];
  /** IPv4 addresses (no prefix): [first, second]; both in one /24. */
  readonly addresses: readonly [string, string];
  /** Takes both ends down (the path disappears at once). */
  down(): void;
  /** Brings both ends up again (addresses and the /24 route come back). */
  up(): void;
}

const live = new Map<string, Netns>();
const runTag = `sbt-${process.pid}`;
let counter = 0;
let staleChecked = false;

function ip(args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): ExecResult {
  const result = spawnSync('ip', args, { encoding: 'utf8', input: options.input, timeout: options.timeoutMs ?? 30_000 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? result.error?.message ?? '' };
}

function ipOrThrow(args: readonly string[], options?: { input?: string; timeoutMs?: number }): string {
  const result = ip(args, options);
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')} failed (${result.status}): ${result.stderr.trim()}`);
  return result.stdout;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killNamespacePids(name: string): void {
  for (const pid of ip(['netns', 'pids', name]).stdout.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Removes namespaces left by earlier test processes that no longer exist. */
export function removeStaleNetns(): string[] {
  const removed: string[] = [];
  for (const line of ip(['netns', 'list']).stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const match = /^sbt-(\d+)-/.exec(name);
    if (!match || Number(match[1]) === process.pid || alive(Number(match[1]))) continue;
    killNamespacePids(name);
    if (ip(['netns', 'del', name]).status === 0) removed.push(name);
  }
  return removed;
}

/** Topology (a): a new namespace with only `lo`, up. */
export function createNetns(label?: string): Netns {
  if (!staleChecked) {
    staleChecked = true;
    removeStaleNetns();
  }
  const name = `${runTag}-${counter++}${label ? `-${label.replace(/[^A-Za-z0-9_-]/g, '')}` : ''}`;
  ipOrThrow(['netns', 'add', name]);
  let deleted = false;
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const chromiumPath = join(dir, 'chromium');
  writeFileSync(chromiumPath, `#!/bin/sh\nexec ip netns exec '${name}' '${CHROMIUM_PATH}' "$@"\n`);
  chmodSync(chromiumPath, 0o755);

  const ns: Netns = {
    name,
    chromiumPath,
    exec(command, args = [], options) {
      return ipOrThrow(['netns', 'exec', name, command, ...args], options);
    },
    tryExec(command, args = [], options) {
      return ip(['netns', 'exec', name, command, ...args], options);
    },
    wrap(command, args = []) {
      return ['ip', ['netns', 'exec', name, command, ...args]];
    },
    addresses() {
      const out = ipOrThrow(['-n', name, '-4', '-o', 'addr', 'show']);
      return [...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!);
    },
    hasRoute(target) {
      return ip(['-n', name, 'route', 'get', target]).status === 0;
    },
    tcpConnects(target, port, timeoutSeconds = 2) {
      const script = `exec 3<>/dev/tcp/${target}/${port}`;
      const args = ['netns', 'exec', name, 'timeout', String(timeoutSeconds), 'bash', '-c', script];
      return ip(args, { timeoutMs: (timeoutSeconds + 5) * 1000 }).status === 0;
    },
    delete() {
      if (deleted) return;
      deleted = true;
      live.delete(name);
      unregister();
      killNamespacePids(name);
      ip(['netns', 'del', name]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const unregister = onExit(() => ns.delete());
  live.set(name, ns);
  try {
    ipOrThrow(['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (err) {
    ns.delete();
    throw err;
  }
  return ns;
}

/** Deletes every namespace this process created (use in afterAll). */
export function deleteAllNetns(): void {
  for (const ns of [...live.values()]) ns.delete();
}

let linkCounter = 0;

/**
 * Joins two namespaces with a veth pair: `a` gets `<subnet>.1`, `b` gets `<subnet>.2` (a /24),
 * both up. No default routes, no forwarding: only these two addresses reach each other.
 */
export function connectNetns(a: Netns, b: Netns, subnet = '10.77.1'): VethLink {
  const base = `v${process.pid.toString(36)}${(linkCounter++).toString(36)}`; // ≤ 15 chars with the suffix
  const devA = `${base}a`;
  const devB = `${base}b`;
  ipOrThrow(['link', 'add', devA, 'netns', a.name, 'type', 'veth', 'peer', 'name', devB, 'netns', b.name]);
  const addresses = [`${subnet}.1`, `${subnet}.2`] as const;
  ipOrThrow(['-n', a.name, 'addr', 'add', `${addresses[0]}/24`, 'dev', devA]);
  ipOrThrow(['-n', b.name, 'addr', 'add', `${addresses[1]}/24`, 'dev', devB]);
  const set = (state: 'up' | 'down') => {
    ipOrThrow(['-n', a.name, 'link', 'set', devA, state]);
    ipOrThrow(['-n', b.name, 'link', 'set', devB, state]);
  };
  set('up');
  return { devices: [devA, devB], addresses, down: () => set('down'), up: () => set('up') };
}

export interface LinkedPair {
  a: Netns;
  b: Netns;
  link: VethLink;
  /** Address of A on the link (10.77.1.1). */
  aIp: string;
  /** Address of B on the link (10.77.1.2). */
  bIp: string;
  delete(): void;
}

/** Topology (b): namespaces A and B joined by one veth pair. */
export function createLinkedPair(subnet = '10.77.1'): LinkedPair {
  const a = createNetns('a');
  const b = createNetns('b');
  try {
    const link = connectNetns(a, b, subnet);
    return { a, b, link, aIp: link.addresses[0], bIp: link.addresses[1], delete: () => [a, b].forEach((n) => n.delete()) };
  } catch (err) {
    a.delete();
    b.delete();
    throw err;
  }
}

export interface RelayTopology {
  a: Netns;
  t: Netns;
  b: Netns;
  /** A ↔ T: A is 10.77.1.1, T is 10.77.1.2. */
  linkA: VethLink;
  /** B ↔ T: B is 10.77.2.1, T is 10.77.2.2. */
  linkB: VethLink;
  aIp: string;
  bIp: string;
  /** T's address on A's side. */
  tIpA: string;
  /** T's address on B's side. */
  tIpB: string;
  /**
   * An address on T's lo (10.77.0.1/32) that neither A nor B can reach: use it as coturn's
   * relay IP so both sides must use their own relay candidate (relay/relay). With a relay IP on
   * one of T's links, the peer on that link reaches the other's relay address directly (host/relay).
   */
  tRelayIp: string;
  delete(): void;
}

/**
 * Topology (c): A ── T ── B. A and B each have a link only to T; T does not forward
 * (a new namespace has ip_forward=0) and A and B have no routes to each other's subnet,
 * so there is no path A ↔ B. Run coturn (and, if you like, the server) in T.
 */
export function createRelayTopology(): RelayTopology {
  const a = createNetns('a');
  const t = createNetns('t');
  const b = createNetns('b');
  const all = [a, t, b];
  try {
    const linkA = connectNetns(a, t, '10.77.1');
    const linkB = connectNetns(b, t, '10.77.2');
    // /proc/sys/net shows the namespace of the reader (no procps/sysctl needed).
    t.exec('sh', ['-c', 'echo 0 > /proc/sys/net/ipv4/ip_forward']);
    t.exec('ip', ['addr', 'add', '10.77.0.1/32', 'dev', 'lo']);
    return {
      tRelayIp: '10.77.0.1',
      a,
      t,
      b,
      linkA,
      linkB,
      aIp: linkA.addresses[0],
      tIpA: linkA.addresses[1],
      bIp: linkB.addresses[0],
      tIpB: linkB.addresses[1],
      delete: () => all.forEach((n) => n.delete()),
    };
  } catch (err) {
    all.forEach((n) => n.delete());
    throw err;
  }
}

/**
 * Drops every UDP packet leaving through `device` in the namespace (TCP, i.e. signaling and
 * TURN over TCP, keeps working): an htb class at 8 bit/s with a one-packet queue catches
 * IP protocol 17. These machines have no iptables or netem; tc htb works. Undo with unblockUdp.
 */
export function blockUdp(ns: Netns, device = 'lo'): void {
  shapeUdp(ns, '8bit', 1, device);
}

/**
 * UDP leaving through `device` goes through an htb class at `rate` (tc units), with a pfifo queue of
 * `queuePackets` (tail drop) or htb's default queue when null; everything else passes at 10 gbit.
 * Undo with unblockUdp.
 */
export function shapeUdp(ns: Netns, rate: string, queuePackets: number | null, device = 'lo'): void {
  ns.exec('tc', ['qdisc', 'add', 'dev', device, 'root', 'handle', '1:', 'htb', 'default', '20']);
  ns.exec('tc', ['class', 'add', 'dev', device, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', rate, 'ceil', rate]);
  ns.exec('tc', ['class', 'add', 'dev', device, 'parent', '1:', 'classid', '1:20', 'htb', 'rate', '10gbit']);
  if (queuePackets !== null) ns.exec('tc', ['qdisc', 'add', 'dev', device, 'parent', '1:10', 'handle', '10:', 'pfifo', 'limit', String(queuePackets)]);
  ns.exec('tc', [
    'filter',
    'add',
    'dev',
    device,
    'parent',
    '1:',
    'protocol',
    'ip',
    'prio',
    '1',
    'u32',
    'match',
    'ip',
    'protocol',
    '17',
    '0xff',
    'flowid',
    '1:10',
  ]);
}

/** A namespace and one of its devices: tc shapes what leaves through it. */
export type UdpEgress = readonly [Netns, string];

/** blockUdp on each (namespace, device); both ends of a link make the block two-way. */
export function blockUdpOn(egresses: readonly UdpEgress[]): void {
  for (const [ns, device] of egresses) blockUdp(ns, device);
}

/** Lifts what blockUdpOn set; a device that is not blocked (the test failed before blocking) is skipped. */
export function unblockUdpOn(egresses: readonly UdpEgress[]): void {
  for (const [ns, device] of egresses) {
    try {
      unblockUdp(ns, device);
    } catch {
      // not blocked
    }
  }
}

/** Limits UDP on `device` to `rate` (tc units, e.g. '2mbit'): a slow path, TCP untouched. Undo with unblockUdp. */
export function throttleUdp(ns: Netns, rate: string, device = 'lo'): void {
  shapeUdp(ns, rate, null, device);
}

export function unblockUdp(ns: Netns, device = 'lo'): void {
  ns.exec('tc', ['qdisc', 'del', 'dev', device, 'root']);
}

/** Synchronous `ip` for callers that need something not wrapped here. */
export function ipCommand(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}
