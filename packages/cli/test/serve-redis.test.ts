/**
 * `switchboard serve --redis`: the flag and its env/config forms, the exit code and message
 * when Redis cannot be reached (password hidden), and a real node joining and leaving a cluster.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@switchboard/server';
import { freePort, requireOrSkip, startProcess, startRedis, stopAllProcesses, type RedisHandle } from '@switchboard/test-utils';
import { EXIT_REDIS_UNREACHABLE, serveConfig } from '../src/serve.js';
import { bin, ensureCliBuilt } from './built-cli.js';

const SECRET = 'cluster-cli-secret-0123456789';

beforeAll(ensureCliBuilt, 120_000);

afterAll(() => stopAllProcesses());

describe('serve --redis: settings', () => {
  it('--redis, SWITCHBOARD_REDIS and cluster.* env variables', () => {
    const fromFlag = serveConfig(['--redis', 'redis://:pw@10.0.0.5:6379/2', '--secret', SECRET], {});
    expect(fromFlag?.redis).toBe('redis://:pw@10.0.0.5:6379/2');
    expect(fromFlag?.cluster).toEqual({
      heartbeatMs: 2000,
      nodeTimeoutMs: 10000,
      prefix: 'sb:',
      connectTimeoutMs: 5000,
      commandTimeoutMs: 1000,
      probeIntervalMs: 1000,
    });
    const fromEnv = serveConfig([], {
      SWITCHBOARD_REDIS: 'rediss://cache:6380',
      SWITCHBOARD_AUTH_SECRETS: SECRET,
      SWITCHBOARD_CLUSTER_NODE_TIMEOUT_MS: '15000',
    });
    expect(fromEnv?.redis).toBe('rediss://cache:6380');
    expect(fromEnv?.cluster.nodeTimeoutMs).toBe(15000);
    expect(
      serveConfig([], { SWITCHBOARD_REDIS: 'redis://cache', SWITCHBOARD_AUTH_SECRETS: SECRET, SWITCHBOARD_CLUSTER_PROBE_INTERVAL_MS: '250' })?.cluster
        .probeIntervalMs,
    ).toBe(250);
    expect(serveConfig([], {})?.redis).toBeNull();
  });

  it('refuses a non-redis URL (password hidden), a cluster without a shared secret, and a timeout under two heartbeats', () => {
    const issue = (args: string[], env = {}) => {
      try {
        serveConfig(args, env);
      } catch (err) {
        if (err instanceof ConfigError) return err.message;
      }
      return 'no error';
    };
    const bad = issue(['--redis', 'http://user:hunter2@h', '--secret', SECRET]);
    expect(bad).toContain('redis: expected a URL starting with "redis:" or "rediss:"');
    expect(bad).not.toContain('hunter2');
    expect(issue(['--redis', 'redis://h'])).toContain('auth.secrets: required when redis is set');
    expect(issue(['--redis', 'redis://h', '--secret', SECRET], { SWITCHBOARD_CLUSTER_NODE_TIMEOUT_MS: '3000' })).toContain(
      'cluster.nodeTimeoutMs: expected at least twice cluster.heartbeatMs (4000)',
    );
  });
});

describe('serve --redis: processes', () => {
  it(`exits ${EXIT_REDIS_UNREACHABLE} naming the Redis URL without its password when Redis is unreachable`, async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [bin, 'serve', '--http', '--port', '0', '--host', '127.0.0.1', '--redis', `redis://:hunter2@127.0.0.1:${port}`, '--secret', SECRET],
      {
        env: { ...process.env, SWITCHBOARD_CLUSTER_CONNECT_TIMEOUT_MS: '400', SWITCHBOARD_DATA_DIR: '/tmp/switchboard-cli-redis' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(EXIT_REDIS_UNREACHABLE);
    expect(stderr).toBe(
      `switchboard serve: redis: Cannot reach Redis at redis://:***@127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port} (from --redis)\n`,
    );
    expect(stderr + stdout).not.toContain('hunter2');
  });

  const skip = requireOrSkip('redis');
  (skip === null ? it : it.skip)(
    `joins the cluster, shows it in the banner and /healthz, and leaves on SIGTERM${skip ? ` [skipped: ${skip}]` : ''}`,
    async () => {
      const redis: RedisHandle = await startRedis();
      try {
        const node = await startProcess(
          process.execPath,
          [bin, 'serve', '--http', '--port', '0', '--host', '127.0.0.1', '--redis', redis.url, '--secret', SECRET, '--log-level', 'warn'],
          {
            name: 'serve --redis',
            env: { ...process.env, SWITCHBOARD_NODE_ID: 'cli-node', SWITCHBOARD_DATA_DIR: '/tmp/switchboard-cli-redis' },
            waitForLine: /Press Ctrl\+C/,
          },
        );
        const out = node.output();
        expect(out).toContain(`Cluster:   Redis ${redis.url} (heartbeat 2000 ms, a silent node is dropped after 10000 ms)`);
        const port = Number(/Local:\s+http:\/\/localhost:(\d+)\//.exec(out)![1]);
        expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toMatchObject({ node: 'cli-node', redis: 'up' });
        expect(await redis.command('ZRANGE', 'sb:nodes', 0, -1)).toEqual(['cli-node']);
        await node.stop();
        expect((await node.exited).code).toBe(0);
        expect(await redis.command('ZRANGE', 'sb:nodes', 0, -1)).toEqual([]);
      } finally {
        await redis.stop();
      }
    },
    30_000,
  );
});
