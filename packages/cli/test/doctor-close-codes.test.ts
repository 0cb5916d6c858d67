/**
 * The doctor explains close codes from the protocol's registry: each code's explanation is the
 * registry's description, and a server closing before the welcome gets that explanation (and
 * the reconnect rule) as the fix.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { CLOSE_CODES } from '@switchboard/protocol';
import { explainCloseCode } from '../src/commands/doctor/close-codes.js';
import type { Check } from '../src/commands/doctor.js';
import { checkWebSocket } from '../src/commands/doctor/server-checks.js';

let server: WebSocketServer | null = null;
afterEach(async () => {
  if (!server) return;
  for (const client of server.clients) client.terminate();
  await new Promise((resolve) => server!.close(resolve));
  server = null;
});

describe('doctor: close codes', () => {
  it.each(Object.entries(CLOSE_CODES))('%s: the explanation is the registry description', (_name, entry) => {
    expect(explainCloseCode(entry.code)).toBe(entry.description);
  });

  it('a code the registry does not list has no explanation', () => {
    expect(explainCloseCode(4999)).toBeNull();
  });

  it('a server closing before the welcome: the fix names the code, its meaning and its reconnect rule', async () => {
    const wss = (server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => [...protocols][0] ?? false }));
    await once(wss, 'listening');
    const { port } = wss.address() as AddressInfo;
    const closeWith: number[] = [];
    wss.on('connection', (ws) => ws.close(closeWith.shift() ?? 1000, ''));
    for (const [name, entry] of Object.entries(CLOSE_CODES)) {
      closeWith.push(entry.code);
      const checks: Check[] = [];
      const ctx = { base: new URL(`http://127.0.0.1:${port}`), insecure: false, timeoutMs: 5_000, add: (check: Check) => void checks.push(check) };
      expect(await checkWebSocket(ctx, 'token')).toBeNull();
      const check = checks.find((c) => c.status === 'fail');
      expect(check?.cause).toBe(`close-${entry.code}`);
      expect(check?.fix).toContain(`${name}: ${entry.description}`);
      expect(check?.fix).toContain(entry.reconnect ? 'The SDK reconnects after it.' : 'The SDK does not reconnect after it.');
      expect(check?.fix).not.toMatch(/too many connections|token was refused/i);
    }
  });
});
