/**
 * The Node SDK against a real HTTPS server with its self-signed certificate (the server's
 * default): an untrusted certificate rejects connectRealtime at once with CERTIFICATE_UNTRUSTED
 * and the fix (guest path: fetch; token path: the WebSocket), instead of reconnecting; trusting
 * the certificate with the `ca` option or NODE_EXTRA_CA_CERTS connects.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchboardError } from '@switchboard/protocol';
import { createServer, type SwitchboardServer } from '@switchboard/server';
import { Switchboard } from '../src/node/index.js';
import type { RealtimeEvent } from '../src/types.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let dataDir: string;
let server: SwitchboardServer;
let url: string;
let certPath: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sb-client-tls-'));
  server = createServer({ logLevel: 'silent', dataDir, tls: { mode: 'self-signed' }, auth: { secrets: ['client-tls-secret-0123456789'] } });
  const address = await server.listen(0, '127.0.0.1');
  url = `https://localhost:${address.port}`;
  certPath = join(dataDir, 'tls', 'cert.pem');
});

afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Connects; resolves what happened: the rejection (or null) and the events seen. */
async function attempt(sb: Switchboard): Promise<{ error: unknown; events: RealtimeEvent[]; ms: number }> {
  const events: RealtimeEvent[] = [];
  const started = performance.now();
  try {
    await sb.connectRealtime((event) => events.push(event));
    return { error: null, events, ms: performance.now() - started };
  } catch (error) {
    return { error, events, ms: performance.now() - started };
  } finally {
    await sb.closeRealtime();
  }
}

function expectUntrusted(result: { error: unknown; events: RealtimeEvent[]; ms: number }): void {
  expect(result.error).toBeInstanceOf(SwitchboardError);
  const error = result.error as SwitchboardError;
  expect(error.code).toBe('CERTIFICATE_UNTRUSTED');
  expect(error.message).toMatch(/self-signed/);
  expect(error.message).toContain('NODE_EXTRA_CA_CERTS=');
  expect(error.message).toContain('ca:');
  // At once: no reconnect was scheduled (the backoff would show as a `reconnect` event).
  expect(result.events.filter((e) => e.type === 'reconnect')).toEqual([]);
  expect(result.ms).toBeLessThan(5_000);
}

describe('Node SDK and an untrusted certificate', () => {
  it('a guest (POST /v1/guest) is rejected at once with CERTIFICATE_UNTRUSTED and the fix', async () => {
    expectUntrusted(await attempt(new Switchboard({ url, name: 'guest' })));
  });

  it('a token (the WebSocket itself) is rejected at once with CERTIFICATE_UNTRUSTED and the fix', async () => {
    const token = await server.issueToken({ user_id: 'bot' });
    expectUntrusted(await attempt(new Switchboard({ url, token })));
  });

  it('a certificate for other names says so', async () => {
    // 127.0.0.2 is loopback too, but not in the certificate's names (same data dir, same certificate).
    const other = createServer({ logLevel: 'silent', dataDir, tls: { mode: 'self-signed' }, auth: { secrets: ['client-tls-secret-0123456789'] } });
    const address = await other.listen(0, '127.0.0.2');
    const token = await other.issueToken({ user_id: 'bot' });
    const result = await attempt(new Switchboard({ url: `https://127.0.0.2:${address.port}`, token, ca: readFileSync(certPath) }));
    await other.close();
    expect((result.error as SwitchboardError).code).toBe('CERTIFICATE_UNTRUSTED');
    expect((result.error as SwitchboardError).message).toMatch(/not valid for the name 127\.0\.0\.2/);
  });
});

describe('Node SDK trusting the self-signed certificate', () => {
  it('with the ca option: guest and token connect', async () => {
    const ca = readFileSync(certPath);
    const guest = await attempt(new Switchboard({ url, name: 'guest', ca }));
    expect(guest.error).toBeNull();
    const token = await server.issueToken({ user_id: 'bot' });
    const withToken = await attempt(new Switchboard({ url, token, node: { ca: ca.toString('utf8') } }));
    expect(withToken.error).toBeNull();
  });

  it('with NODE_EXTRA_CA_CERTS (the README line)', async () => {
    const script = `
      import { Switchboard } from '@switchboard/client/node';
      const sb = new Switchboard({ url: ${JSON.stringify(url)}, name: 'extra-ca' });
      await sb.connectRealtime(() => {});
      console.log('connected');
      await sb.closeRealtime();`;
    const run = (env: NodeJS.ProcessEnv) =>
      new Promise<{ code: number; out: string }>((resolve) => {
        execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env, timeout: 20_000 }, (err, stdout, stderr) => {
          resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, out: `${stdout}${stderr}` });
        });
      });
    const trusted = await run({ ...process.env, NODE_EXTRA_CA_CERTS: certPath });
    expect(trusted.out).toContain('connected');
    expect(trusted.code).toBe(0);
    const untrusted = await run({ ...process.env, NODE_EXTRA_CA_CERTS: '' });
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.out).toContain('CERTIFICATE_UNTRUSTED');
  }, 30_000);
});
