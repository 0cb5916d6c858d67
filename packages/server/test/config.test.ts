import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configLeaves, createServer, loadConfig, resolveConfig, signToken } from '../src/index.js';
import { MAX_TIMER_MS } from '../src/config.js';
import { LOG_LEVEL, tempDir, TestClient, useCleanup } from './helpers.js';

useCleanup();

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('has the documented defaults', () => {
    const c = resolveConfig();
    expect(c).toMatchObject({
      port: 8443,
      host: '0.0.0.0',
      tls: { mode: 'self-signed' },
      dataDir: './.switchboard',
      guests: true,
      auth: { secrets: [] },
      heartbeatMs: 15_000,
      rtc: { allowAnyPair: false },
      cors: { origins: ['*'] },
      staticDir: null,
      logLevel: 'info',
      ice: { stun: [], turn: [], turnSecrets: [] },
      limits: {
        maxFrameBytes: 131072,
        messagesPerSecond: 50,
        messageBurst: 100,
        maxConnectionsPerUser: 20,
        maxViolations: 20,
        violationWindowMs: 10_000,
        maxNotificationBytes: 3072,
      },
    });
  });

  it('errors name the setting path, the expectation and the value', () => {
    const err = errorOf(() => resolveConfig({ limits: { maxFrameBytes: 'abc' as never } }));
    expect(err.issues).toEqual([{ path: 'limits.maxFrameBytes', message: 'expected a number between 1024 and 16777216, got "abc"' }]);
    expect(err.message).toBe('Invalid configuration: limits.maxFrameBytes: expected a number between 1024 and 16777216, got "abc"');
    expect(errorOf(() => resolveConfig({ port: 70000 })).issues[0]).toEqual({ path: 'port', message: 'expected a number between 0 and 65535, got 70000' });
    expect(errorOf(() => resolveConfig({ tls: { mode: 'maybe' as never } })).issues[0]!.path).toBe('tls.mode');
    expect(errorOf(() => resolveConfig({ limits: { typo: 1 } as never })).issues[0]).toEqual({ path: 'limits.typo', message: 'unknown setting' });
    expect(errorOf(() => resolveConfig({ ice: { stun: ['http://x'] } })).issues[0]!.path).toBe('ice.stun.0');
    expect(errorOf(() => resolveConfig({ cors: { origins: ['not an origin'] } })).issues[0]!.path).toBe('cors.origins.0');
    expect(errorOf(() => resolveConfig({ tls: { mode: 'files' } })).issues.map((i) => i.path)).toEqual(['tls.cert', 'tls.key']);
  });

  it('never echoes secrets in errors', () => {
    const err = errorOf(() => resolveConfig({ auth: { secrets: ['tooshort'] } }));
    expect(err.issues[0]).toEqual({ path: 'auth.secrets.0', message: 'expected a secret of at least 16 characters, got a string of 8 characters' });
    expect(err.message).not.toContain('tooshort');
  });

  it('layers defaults ← file ← env ← flags, and names the env variable in errors', () => {
    const dir = tempDir();
    const file = pathJoin(dir, 'switchboard.json');
    writeFileSync(file, JSON.stringify({ port: 9000, guests: false, staticDir: 'public', limits: { messageBurst: 7 }, heartbeatMs: 1000 }));
    const c = loadConfig({
      file,
      env: {
        SWITCHBOARD_PORT: '9100',
        SWITCHBOARD_ICE_STUN: 'stun:a:3478, stun:b:3478',
        SWITCHBOARD_RTC_ALLOW_ANY_PAIR: 'true',
        SWITCHBOARD_HEARTBEAT_MS: '2000',
      },
      flags: { port: 9200 },
    });
    expect(c.port).toBe(9200);
    expect(c.guests).toBe(false);
    expect(c.staticDir).toBe(pathJoin(dir, 'public')); // relative to the config file
    expect(c.limits.messageBurst).toBe(7);
    expect(c.heartbeatMs).toBe(2000);
    expect(c.ice.stun).toEqual(['stun:a:3478', 'stun:b:3478']);
    expect(c.rtc.allowAnyPair).toBe(true);

    const err = errorOf(() => loadConfig({ env: { SWITCHBOARD_LIMITS_MAX_FRAME_BYTES: 'abc' } }));
    expect(err.issues[0]).toEqual({
      path: 'limits.maxFrameBytes',
      message: 'expected a number between 1024 and 16777216, got "abc" (from SWITCHBOARD_LIMITS_MAX_FRAME_BYTES)',
    });
    writeFileSync(file, '{ nope');
    expect(errorOf(() => loadConfig({ file })).message).toContain('not valid JSON');
    const flagErr = errorOf(() => loadConfig({ flags: { port: 'x' as never }, flagsLabel: '--port' }));
    expect(flagErr.issues[0]!.message).toContain('(from --port)');
  });

  it('bounds every number setting, durations to what a timer can hold (heartbeatMs=3e9 is refused)', () => {
    expect(errorOf(() => resolveConfig({ heartbeatMs: 3e9 })).issues).toEqual([
      { path: 'heartbeatMs', message: 'expected a number between 10 and 600000, got 3000000000' },
    ]);
    expect(errorOf(() => loadConfig({ env: { SWITCHBOARD_HEARTBEAT_MS: '3e9' } })).issues[0]).toEqual({
      path: 'heartbeatMs',
      message: 'expected a number between 10 and 600000, got 3000000000 (from SWITCHBOARD_HEARTBEAT_MS)',
    });
    const numbers = configLeaves().filter((leaf) => typeof leaf.example === 'number');
    expect(numbers.map((l) => l.path)).toEqual(expect.arrayContaining(['port', 'heartbeatMs', 'limits.maxFrameBytes', 'cluster.nodeTimeoutMs']));
    for (const leaf of numbers) {
      // 2^31 ms is past what setTimeout/setInterval can arm; no count or size needs to be that large either.
      const err = errorOf(() => loadConfig({ env: { [leaf.env]: String(MAX_TIMER_MS + 1) } }));
      expect(err.issues.map((i) => i.path)).toContain(leaf.path);
      expect(err.issues.find((i) => i.path === leaf.path)!.message).toMatch(/^expected a number between -?\d+ and \d+, got 2147483648 \(from SWITCHBOARD_/);
      expect(() => loadConfig({ env: { [leaf.env]: String(leaf.example) } })).not.toThrow();
    }
    expect(errorOf(() => resolveConfig({ redis: 'redis://h:99999', auth: { secrets: ['s'.repeat(16)] } })).issues[0]!.path).toBe('redis');
    expect(errorOf(() => resolveConfig({ redis: 'redis://:6379', auth: { secrets: ['s'.repeat(16)] } })).issues[0]!.path).toBe('redis');
    expect(resolveConfig({ redis: 'rediss://:pw@[::1]:6380/2', auth: { secrets: ['s'.repeat(16)] } }).redis).toBe('rediss://:pw@[::1]:6380/2');
    expect(errorOf(() => resolveConfig({ host: 'h'.repeat(254) })).issues[0]!.path).toBe('host');
  });

  it('derives an env variable for every setting', () => {
    const envs = configLeaves().map((l) => l.env);
    expect(envs).toContain('SWITCHBOARD_LIMITS_MAX_FRAME_BYTES');
    expect(envs).toContain('SWITCHBOARD_AUTH_SECRETS');
    expect(envs).toContain('SWITCHBOARD_ICE_TURN_TTL_SECONDS');
    expect(envs).toContain('SWITCHBOARD_TLS_MODE');
  });

  it('persists a generated secret in dataDir so tokens survive restarts', async () => {
    const dataDir = tempDir();
    const first = createServer({ dataDir, tls: { mode: 'off' }, logLevel: LOG_LEVEL });
    const secretFile = pathJoin(dataDir, 'secret');
    expect(existsSync(secretFile)).toBe(true);
    const secret = readFileSync(secretFile, 'utf8').trim();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    const token = await first.issueToken({ user_id: 'alice' });
    expect(await signToken([secret], { user_id: 'x' })).toMatch(/^eyJ/);
    await first.close();

    const second = createServer({ dataDir, tls: { mode: 'off' }, logLevel: LOG_LEVEL });
    const address = await second.listen(0, '127.0.0.1');
    try {
      const client = await TestClient.open(address.realtimeUrl, { token });
      expect((await client.welcome).user.user_id).toBe('alice');
      await client.close();
    } finally {
      await second.close();
    }
  });
});
