/**
 * `switchboard turn-config`: the generated turnserver.conf (in-process), and coturn actually
 * running from it (loopback): REST auth with both secrets (rotation), TURN over UDP, TCP and
 * TLS (`switchboard doctor` passes every check), denied private peer ranges (CreatePermission
 * answers 403), and what happens without --allow-loopback-peers on loopback (allocations
 * work, relayed data does not: the doctor's relay check catches it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createServer, ensureSelfSigned, turnCredential } from '@switchboard/server';
import { runDoctor } from '../src/commands/doctor.js';
import { parseIceUrl } from '../src/commands/ice-urls.js';
import { turnAllocate } from '../src/commands/stun-client.js';
import { coturnConfig, DENIED_PEER_RANGES, turnConfig } from '../src/commands/turn-config.js';
import { UsageError } from '../src/errors.js';
import { describeWith, freePort, startProcess, stopAllProcesses, waitForPort, type ManagedProcess } from '@switchboard/test-utils';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
afterAll(async () => {
  await stopAllProcesses();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sb-turn-config-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const PROD_ENV = {
  SWITCHBOARD_ICE_STUN: 'stun:turn.example.com:3478',
  SWITCHBOARD_ICE_TURN: 'turn:turn.example.com:3478?transport=udp,turn:turn.example.com:3478?transport=tcp,turns:turn.example.com:443?transport=tcp',
  SWITCHBOARD_ICE_TURN_SECRETS: 'new-secret,old-secret',
  SWITCHBOARD_ICE_TURN_TTL_SECONDS: '3600',
};

const settings = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe('switchboard turn-config (the text)', () => {
  it('matches the server settings: ports, TLS on 443, every secret, realm, relay range, denied ranges', () => {
    const text = turnConfig(['--external-ip', '203.0.113.7/10.0.0.5', '--min-port', '50000', '--max-port', '50999'], PROD_ENV)!;
    const lines = settings(text);
    expect(lines).toEqual(
      expect.arrayContaining([
        'listening-port=3478',
        'tls-listening-port=443',
        'cert=/etc/letsencrypt/live/turn.example.com/fullchain.pem',
        'pkey=/etc/letsencrypt/live/turn.example.com/privkey.pem',
        'no-tlsv1',
        'no-tlsv1_1',
        'no-dtls',
        'external-ip=203.0.113.7/10.0.0.5',
        'min-port=50000',
        'max-port=50999',
        'use-auth-secret',
        'static-auth-secret=new-secret',
        'static-auth-secret=old-secret',
        'realm=turn.example.com',
        'fingerprint',
        'no-multicast-peers',
        'no-cli',
        'denied-peer-ip=10.0.0.0-10.255.255.255',
        'denied-peer-ip=172.16.0.0-172.31.255.255',
        'denied-peer-ip=192.168.0.0-192.168.255.255',
        'denied-peer-ip=127.0.0.0-127.255.255.255',
        'denied-peer-ip=169.254.0.0-169.254.255.255',
        'denied-peer-ip=100.64.0.0-100.127.255.255',
        'denied-peer-ip=fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
        'allowed-peer-ip=10.0.0.5', // coturn's own private address behind the 1:1 NAT
      ]),
    );
    expect(lines).not.toContain('no-tls');
    expect(lines.filter((l) => l.startsWith('denied-peer-ip='))).toHaveLength(DENIED_PEER_RANGES.length);
    expect(text).toMatch(/Port 443 < 1024: coturn needs CAP_NET_BIND_SERVICE/);
    expect(text).toMatch(/valid 3600 s/);
  });

  it('without turns: it turns TLS off and says how to add TLS on 443; --realm and --listening-ip apply', () => {
    const text = turnConfig(['--realm', 'example.org', '--listening-ip', '192.0.2.10'], {
      SWITCHBOARD_ICE_TURN: 'turn:192.0.2.10:3478?transport=udp',
      SWITCHBOARD_ICE_TURN_SECRETS: 's',
    })!;
    expect(settings(text)).toEqual(expect.arrayContaining(['listening-port=3478', 'no-tls', 'no-dtls', 'realm=example.org', 'listening-ip=192.0.2.10']));
    expect(text).toMatch(/add "turns:turn\.example\.com:443\?transport=tcp" to ice\.turn/);
    expect(text).toMatch(/no \?transport=tcp URL: clients on networks that block UDP cannot relay/);
  });

  it('reads a config file; refuses to run without TURN settings; checks its flags', () => {
    const dir = tempDir();
    const file = join(dir, 'switchboard.json');
    writeFileSync(file, JSON.stringify({ ice: { turn: ['turn:relay.example.net:3479'], turnSecrets: ['from-file'] } }));
    expect(settings(turnConfig(['--config', file], {})!)).toEqual(
      expect.arrayContaining(['listening-port=3479', 'static-auth-secret=from-file', 'realm=relay.example.net']),
    );
    expect(() => turnConfig([], {})).toThrow(ConfigError);
    expect(() => turnConfig([], {})).toThrow(/ice\.turn: no TURN URLs configured.*SWITCHBOARD_ICE_TURN=/);
    expect(() => turnConfig(['--min-port', 'abc'], PROD_ENV)).toThrow(UsageError);
    expect(() => turnConfig(['--min-port', '60000', '--max-port', '50000'], PROD_ENV)).toThrow('--min-port 60000 is above --max-port 50000');
    expect(() => turnConfig(['--bogus'], PROD_ENV)).toThrow(UsageError);
    expect(turnConfig(['--help'], {})).toBeNull();
    expect(() => coturnConfig({ stun: [], turn: ['turn:x:1?transport=sctp'], turnSecrets: ['s'], turnTtlSeconds: 60 })).toThrow(/transport must be udp or tcp/);
  });
});

describeWith(['coturn'], 'coturn started from the generated configuration', () => {
  async function coturnFrom(options: { allowLoopbackPeers: boolean }) {
    const dir = tempDir();
    const port = await freePort();
    const tlsPort = await freePort();
    const minPort = 40000 + Math.floor(Math.random() * 99) * 200;
    await ensureSelfSigned(dir); // dir/tls/cert.pem, key.pem; SANs include 127.0.0.1
    const env = {
      SWITCHBOARD_ICE_STUN: `stun:127.0.0.1:${port}`,
      SWITCHBOARD_ICE_TURN: `turn:127.0.0.1:${port}?transport=udp,turn:127.0.0.1:${port}?transport=tcp,turns:127.0.0.1:${tlsPort}?transport=tcp`,
      SWITCHBOARD_ICE_TURN_SECRETS: 'new-secret-0123,old-secret-4567',
      SWITCHBOARD_ICE_TURN_TTL_SECONDS: '600',
    };
    const conf = join(dir, 'turnserver.conf');
    writeFileSync(
      conf,
      turnConfig(
        [
          '--listening-ip',
          '127.0.0.1',
          '--relay-ip',
          '127.0.0.2',
          '--min-port',
          String(minPort),
          '--max-port',
          String(minPort + 199),
          '--cert',
          join(dir, 'tls', 'cert.pem'),
          '--pkey',
          join(dir, 'tls', 'key.pem'),
        ],
        env,
      )!,
    );
    // Relaying from 127.0.0.2 leaves relay to relay as the only path between the doctor's two
    // peers on 127.0.0.1 (else libjuice may settle on host/prflx). Test-only additions: loopback relays, files of this run.
    const proc: ManagedProcess = await startProcess(
      'turnserver',
      [
        '-c',
        conf,
        '--pidfile',
        join(dir, 'turnserver.pid'),
        '--userdb',
        join(dir, 'turndb'),
        ...(options.allowLoopbackPeers ? ['--allow-loopback-peers'] : []),
      ],
      { name: `coturn-from-turn-config:${port}` },
    );
    cleanups.push(() => proc.stop());
    await waitForPort(port, { protocol: 'udp', whileAlive: proc });
    await waitForPort(tlsPort, { protocol: 'tcp', whileAlive: proc });
    const server = createServer({
      host: '127.0.0.1',
      tls: { mode: 'off' },
      logLevel: 'silent',
      dataDir: dir,
      ice: {
        stun: [env.SWITCHBOARD_ICE_STUN],
        turn: env.SWITCHBOARD_ICE_TURN.split(','),
        turnSecrets: env.SWITCHBOARD_ICE_TURN_SECRETS.split(','),
        turnTtlSeconds: 600,
      },
      stun: { enabled: false }, // coturn beside the server answers STUN (docs/turn.md)
    });
    const { url } = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());
    return { port, tlsPort, url, output: () => proc.output() };
  }

  it('doctor passes every check, TURN over UDP, TCP and TLS included; both secrets work; private peers are denied', async () => {
    const turn = await coturnFrom({ allowLoopbackPeers: true });
    const report = await runDoctor({ url: turn.url, insecure: true, timeoutMs: 3000, bindAddress: '127.0.0.1' });
    expect(report.checks.map((c) => `${c.id}:${c.status}`)).toEqual([
      'http:ok',
      'auth:ok',
      'websocket:ok',
      'ice-endpoint:ok',
      'ice:ok',
      'credentials:ok',
      'stun:ok',
      'turn:ok',
      'turn:ok',
      'turn:ok',
      'turn-native:ok',
      'relay:ok',
    ]);
    expect(report.checks.filter((c) => c.id === 'turn').map((c) => c.detail.split(':')[0])).toEqual([
      'allocation over UDP',
      'allocation over TCP',
      'allocation over TLS',
    ]);
    expect(report.checks.find((c) => c.id === 'ice')!.detail).toBe('1 STUN, 3 TURN URLs (UDP, TCP, TLS)');

    // Rotation: a credential signed with the second (old) secret is accepted too.
    const expiry = Math.floor(Date.now() / 1000) + 60;
    const udp = parseIceUrl(`turn:127.0.0.1:${turn.port}?transport=udp`);
    const old = await turnAllocate(udp, turnCredential('old-secret-4567', 'rotating-user', expiry));
    expect(old.ok).toBe(true);
    if (!old.ok) return;
    // Denied peer ranges: the relay refuses private, link-local and CGNAT peers; a public one is fine.
    for (const peer of ['10.1.2.3', '192.168.1.1', '172.20.0.1', '169.254.169.254', '100.64.0.1']) {
      expect(await old.createPermission(peer)).toEqual({ ok: false, error: { code: 403, reason: 'Forbidden IP' } });
    }
    expect(await old.createPermission('8.8.8.8')).toEqual({ ok: true });
    await old.release();
    const wrong = await turnAllocate(udp, turnCredential('neither-secret', 'u', expiry));
    expect(wrong).toMatchObject({ ok: false, authenticated: true, error: { code: 401 } });

    // Without --insecure the self-signed TURN TLS certificate is named as the problem.
    const strict = await runDoctor({ url: turn.url, timeoutMs: 3000, bindAddress: '127.0.0.1' });
    const tlsCheck = strict.checks.find((c) => c.name.startsWith('TURN turns:'))!;
    expect(tlsCheck).toMatchObject({ status: 'fail', cause: 'tls' });
    expect(tlsCheck.detail).toMatch(/TLS handshake .* failed: self[- ]signed certificate/);
  });

  it('on loopback without --allow-loopback-peers: allocations work, relayed data does not, and the doctor says so', async () => {
    const turn = await coturnFrom({ allowLoopbackPeers: false });
    const report = await runDoctor({ url: turn.url, insecure: true, timeoutMs: 2000, bindAddress: '127.0.0.1' });
    expect(report.checks.filter((c) => c.id === 'turn').every((c) => c.status === 'ok')).toBe(true);
    expect(report.checks.find((c) => c.id === 'relay')).toMatchObject({ status: 'fail', cause: 'relay-blocked' });
    expect(report.checks.find((c) => c.id === 'relay')!.fix).toMatch(/relay port range/);
    expect(report.ok).toBe(false);
  });
});
