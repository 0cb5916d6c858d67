/**
 * What a public server needs: connections and guest tokens per client address,
 * the Origin allow-list at the upgrade, /v1/info never echoing Host, and guests'
 * listings limited to their own group. Other addresses come from 127.0.0.2/…:
 * the whole 127/8 is loopback on Linux.
 */
import { request } from 'node:http';
import { SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '@switchboard/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { addressKey, AddressRateLimiter, clientAddress } from '../src/http/client-address.js';
import { loadConfig, resolveConfig } from '../src/index.js';
import { join, startServer, TestClient, useCleanup, type TestServer } from './helpers.js';

useCleanup();
const sockets: WebSocket[] = [];
afterEach(() => {
  for (const ws of sockets.splice(0)) ws.terminate();
});

type Attempt = { ok: true; ws: WebSocket } | { ok: false; status: number; body: any };

/** One upgrade from `localAddress` (default 127.0.0.1) with optional headers. */
function attempt(t: TestServer, user: string, options: { localAddress?: string; headers?: Record<string, string> } = {}): Promise<Attempt> {
  return t.token(user).then(
    (token) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(t.wsUrl, [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${token}`], {
          localAddress: options.localAddress ?? '127.0.0.1',
          headers: options.headers,
        });
        sockets.push(ws);
        ws.once('open', () => resolve({ ok: true, ws }));
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => {
            ws.terminate();
            resolve({ ok: false, status: res.statusCode ?? 0, body: JSON.parse(text) });
          });
        });
      }),
  );
}

/** A plain HTTP request (Host and source address under the test's control). */
function http(t: TestServer, method: string, path: string, options: { localAddress?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; body: any; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: t.address.port, method, path, localAddress: options.localAddress, headers: options.headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), headers: res.headers }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('connections per address', () => {
  it('refuses connection N+1 from one address with 429 TOO_MANY_CONNECTIONS; other addresses are unaffected; a close frees a slot', async () => {
    const t = await startServer({ limits: { maxConnectionsPerAddress: 3 } });
    const held: WebSocket[] = [];
    for (const user of ['a', 'b', 'c']) {
      const r = await attempt(t, user);
      if (!r.ok) throw new Error(`connection ${user} refused: ${JSON.stringify(r)}`);
      held.push(r.ws);
    }
    const refused = await attempt(t, 'd');
    expect(refused).toMatchObject({ ok: false, status: 429, body: { code: 'TOO_MANY_CONNECTIONS' } });
    expect((refused as { body: { message: string } }).body.message).toContain('127.0.0.1');
    expect((await attempt(t, 'd', { localAddress: '127.0.0.2' })).ok).toBe(true);
    // Refusals hold no slot: the address is still exactly at its limit.
    expect((await attempt(t, 'e')).ok).toBe(false);

    held[0]!.close();
    const deadline = Date.now() + 3000;
    let again: Attempt;
    do again = await attempt(t, 'f');
    while (!again.ok && Date.now() < deadline);
    expect(again.ok).toBe(true);
  });

  it('defaults protect a public server; settings are validated and read from the environment', () => {
    const config = resolveConfig();
    expect(config.limits).toMatchObject({ maxConnectionsPerAddress: 50, guestTokensPerMinute: 30 });
    expect(config).toMatchObject({ trustProxy: 0, publicUrl: null, guestListing: 'all', cors: { origins: ['*'] } });
    expect(() => resolveConfig({ publicUrl: 'ftp://calls.example.com' })).toThrow(/publicUrl/);
    expect(() => resolveConfig({ trustProxy: -1 })).toThrow(/trustProxy/);
    expect(() => resolveConfig({ guestListing: 'nobody' as never })).toThrow(/guestListing/);
    const fromEnv = loadConfig({
      env: {
        SWITCHBOARD_LIMITS_MAX_CONNECTIONS_PER_ADDRESS: '0',
        SWITCHBOARD_TRUST_PROXY: '1',
        SWITCHBOARD_PUBLIC_URL: 'https://calls.example.com',
        SWITCHBOARD_GUEST_LISTING: 'own-group',
      },
    });
    expect(fromEnv).toMatchObject({ trustProxy: 1, publicUrl: 'https://calls.example.com', guestListing: 'own-group' });
    expect(fromEnv.limits.maxConnectionsPerAddress).toBe(0);
  });

  it('X-Forwarded-For counts only with trustProxy, and only the entry the trusted proxy wrote', async () => {
    const plain = await startServer({ limits: { maxConnectionsPerAddress: 1 } });
    expect((await attempt(plain, 'a', { headers: { 'X-Forwarded-For': '198.51.100.1' } })).ok).toBe(true);
    expect(await attempt(plain, 'b', { headers: { 'X-Forwarded-For': '198.51.100.2' } })).toMatchObject({ status: 429 });

    const proxied = await startServer({ trustProxy: 1, limits: { maxConnectionsPerAddress: 1 } });
    expect((await attempt(proxied, 'a', { headers: { 'X-Forwarded-For': '198.51.100.1' } })).ok).toBe(true);
    expect((await attempt(proxied, 'b', { headers: { 'X-Forwarded-For': '198.51.100.2' } })).ok).toBe(true);
    // A client-written entry on the left does not make a new address.
    const spoofed = await attempt(proxied, 'c', { headers: { 'X-Forwarded-For': '203.0.113.9, 198.51.100.2' } });
    expect(spoofed).toMatchObject({ ok: false, status: 429, body: { code: 'TOO_MANY_CONNECTIONS' } });
  });
});

describe('guest tokens per address', () => {
  it('answers 429 RATE_LIMITED with Retry-After past the limit, other addresses still get tokens, and it recovers', async () => {
    const t = await startServer({ limits: { guestTokensPerMinute: 30 } });
    for (let i = 0; i < 30; i++) expect((await http(t, 'POST', '/v1/guest')).status).toBe(200);
    const limited = await http(t, 'POST', '/v1/guest');
    expect(limited).toMatchObject({ status: 429, body: { code: 'RATE_LIMITED' } });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    expect((await http(t, 'POST', '/v1/guest', { localAddress: '127.0.0.3' })).status).toBe(200);
    // Retry-After is the contract under test: once it has passed, a token is available again.
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
    expect((await http(t, 'POST', '/v1/guest')).status).toBe(200);
  });

  it('keeps the table of addresses bounded: full buckets are dropped when it grows', () => {
    let now = 0;
    const limiter = new AddressRateLimiter(30, () => now, 100);
    for (let i = 0; i < 100; i++) expect(limiter.take(`10.0.0.${i}`)).toBe(0);
    expect(limiter.take('10.0.0.0')).toBe(0);
    now += 60_000;
    expect(limiter.take('10.0.1.1')).toBe(0);
    expect(limiter.size).toBe(1);
  });
});

describe('client address', () => {
  const req = (remoteAddress: string, xff?: string) => ({ socket: { remoteAddress }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as never;

  it('reads X-Forwarded-For from the right, N trusted hops deep', () => {
    expect(clientAddress(req('::ffff:10.0.0.1', '1.1.1.1'), 0)).toBe('10.0.0.1');
    expect(clientAddress(req('10.0.0.1', 'evil, 1.1.1.1, 10.0.0.2'), 2)).toBe('1.1.1.1');
    expect(clientAddress(req('10.0.0.1', '1.1.1.1:5000'), 1)).toBe('1.1.1.1');
    expect(clientAddress(req('10.0.0.1', 'not-an-ip'), 1)).toBe('10.0.0.1');
    expect(clientAddress(req('10.0.0.1'), 1)).toBe('10.0.0.1');
  });

  it('counts IPv6 per /64', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
  });
});

describe('Origin at the upgrade', () => {
  it('with an allow-list: a foreign Origin gets 403 FORBIDDEN; listed, same-origin and missing Origin are accepted', async () => {
    const t = await startServer({ cors: { origins: ['https://app.example'] } });
    expect(await attempt(t, 'a', { headers: { Origin: 'https://evil.example' } })).toMatchObject({
      ok: false,
      status: 403,
      body: { code: 'FORBIDDEN' },
    });
    expect(await attempt(t, 'a', { headers: { Origin: 'null' } })).toMatchObject({ ok: false, status: 403 });
    expect((await attempt(t, 'a', { headers: { Origin: 'https://app.example' } })).ok).toBe(true);
    expect((await attempt(t, 'b')).ok).toBe(true);
    expect((await attempt(t, 'c', { headers: { Origin: t.url } })).ok).toBe(true);
  });

  it('"*" (the default) accepts any Origin', async () => {
    const t = await startServer();
    expect((await attempt(t, 'a', { headers: { Origin: 'https://elsewhere.example' } })).ok).toBe(true);
  });
});

describe('GET /v1/info', () => {
  it('never reflects the Host header', async () => {
    const t = await startServer();
    const res = await http(t, 'GET', '/v1/info', { headers: { Host: 'evil.example' } });
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).not.toContain('evil.example');
    expect(res.body.urls[0]).toBe(`${t.url}/`);
  });

  it('with publicUrl, lists that URL only', async () => {
    const t = await startServer({ publicUrl: 'https://calls.example.com' });
    const res = await http(t, 'GET', '/v1/info', { headers: { Host: 'evil.example' } });
    expect(res.body.urls).toEqual(['https://calls.example.com/']);
  });
});

describe('guestListing', () => {
  async function scene(guestListing?: 'all' | 'own-group') {
    const t = await startServer(guestListing ? { guestListing } : {});
    const issued = await http(t, 'POST', '/v1/guest');
    const guest = await TestClient.open(t.wsUrl, { token: issued.body.token });
    await guest.welcome;
    await join(guest, 'lobby');
    const member = await t.connect('alice');
    await join(member, 'private-room');
    return { guest, member };
  }

  it('"own-group": a guest lists only the group it joined; other users are not limited', async () => {
    const { guest, member } = await scene('own-group');
    expect(await guest.request({ type: 'list_users', group: 'private-room' })).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    expect((await guest.call({ type: 'list_users' })).list).toHaveLength(1);
    expect((await guest.call({ type: 'list_users', group: 'lobby' })).list).toHaveLength(1);
    expect((await guest.call({ type: 'list_groups', searchFor: 'group', value: ' ' })).list).toEqual([{ group: 'lobby', number_of_users: 1 }]);
    expect((await guest.call({ type: 'list_groups', searchFor: 'group', value: 'private', condition: '>=' })).list).toEqual([]);
    expect((await member.call({ type: 'list_users', group: 'lobby' })).list).toHaveLength(1);
    expect((await member.call({ type: 'list_groups', searchFor: 'group', value: ' ' })).list).toHaveLength(2);
  });

  it('"all" (the default, as Skapi): a guest lists any group', async () => {
    const { guest } = await scene();
    expect((await guest.call({ type: 'list_users', group: 'private-room' })).list).toHaveLength(1);
    expect((await guest.call({ type: 'list_groups', searchFor: 'group', value: ' ' })).list.map((r: { group: string }) => r.group)).toEqual([
      'lobby',
      'private-room',
    ]);
  });
});
