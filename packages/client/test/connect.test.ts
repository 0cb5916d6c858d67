import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SwitchboardError } from '@switchboard/protocol';
import { Switchboard } from '../src/node/index.js';
import { Recorder } from './recorder.js';
import { signHs256, startServer, until, type TestServer } from './server.js';

let server: TestServer;
const clients: Switchboard[] = [];
const fast = { baseDelayMs: 10, maxDelayMs: 50 };

function client(options: Partial<ConstructorParameters<typeof Switchboard>[0]> = {}): Switchboard {
  const sb = new Switchboard({ url: server.url, reconnect: fast, ...options });
  clients.push(sb);
  return sb;
}

beforeAll(async () => {
  server = await startServer();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((sb) => sb.closeRealtime()));
  await until(() => server.server.connectionCount() === 0, 5_000, 'all connections closed');
});
afterAll(() => server.close());

async function rejection(promise: Promise<unknown>): Promise<SwitchboardError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(SwitchboardError);
  return error as SwitchboardError;
}

describe('connectRealtime', () => {
  it('resolves {cid, user}, emits success once, exposes user and cid', async () => {
    const sb = client({ token: await server.token('alice', 'Alice') });
    const events = new Recorder();
    expect(sb.user).toBeNull();
    expect(sb.cid).toBeNull();
    const connected = await sb.connectRealtime(events.cb);
    expect(connected.user).toEqual({ user_id: 'alice', name: 'Alice' });
    expect(connected.cid).toMatch(/^cid:/);
    expect(sb.user).toEqual({ user_id: 'alice', name: 'Alice' });
    expect(sb.cid).toBe(connected.cid);
    expect(sb.connectionState).toBe('open');
    expect(events.events).toEqual([{ type: 'success', message: 'Connected to WebSocket server.' }]);
  });

  it('is idempotent: concurrent and later calls share one promise and one socket', async () => {
    const sb = client({ token: await server.token('bob') });
    const events = new Recorder();
    const first = sb.connectRealtime(events.cb);
    const second = sb.connectRealtime(events.cb);
    expect(second).toBe(first);
    const connected = await first;
    const third = sb.connectRealtime(events.cb);
    expect(third).toBe(first);
    expect(await third).toEqual(connected);
    expect(server.server.connectionCount()).toBe(1);
    expect(events.of('success')).toHaveLength(1);
  });

  it('calls a token function on every connect', async () => {
    let calls = 0;
    const sb = client({
      token: async () => {
        calls += 1;
        return server.token('carol');
      },
    });
    await sb.connectRealtime(() => undefined);
    expect(calls).toBe(1);
  });

  it('rejects a bad token with UNAUTHORIZED and does not loop', async () => {
    const sb = client({ token: signHs256({ sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 60 }, 'wrong-secret-0123456789') });
    const events = new Recorder();
    const error = await rejection(sb.connectRealtime(events.cb));
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toMatch(/refused the connection: The token is invalid/);
    expect(events.of('reconnect')).toHaveLength(0);
    expect(events.of('error')).toHaveLength(1);
    expect(sb.connectionState).toBe('closed');
    // A later call tries again (new promise), and fails the same way.
    expect((await rejection(sb.connectRealtime(events.cb))).code).toBe('UNAUTHORIZED');
  });

  it('rejects an expired token with TOKEN_EXPIRED', async () => {
    const sb = client({ token: server.expiredToken('dave') });
    const events = new Recorder();
    const error = await rejection(sb.connectRealtime(events.cb));
    expect(error.code).toBe('TOKEN_EXPIRED');
    expect(error.message).toMatch(/expired/);
    expect(events.of('reconnect')).toHaveLength(0);
  });

  it('tells the browser path apart too: GET /v1/session explains a refused upgrade', async () => {
    // Without upgradeFailure (as in a browser), the SDK must ask /v1/session.
    const sb = client({ token: server.expiredToken('erin'), platform: { upgradeFailure: () => undefined } });
    const error = await rejection(sb.connectRealtime(() => undefined));
    expect(error.code).toBe('TOKEN_EXPIRED');
  });

  it('rejects a missing or malformed token clearly', async () => {
    expect((await rejection(client({ token: async () => '' }).connectRealtime(() => undefined))).code).toBe('UNAUTHORIZED');
    const spaced = await rejection(client({ token: 'not a jwt' }).connectRealtime(() => undefined));
    expect(spaced.code).toBe('UNAUTHORIZED');
    expect(spaced.message).toMatch(/not a JWT/);
    const thrower = client({
      token: () => {
        throw new Error('refresh endpoint down');
      },
    });
    const thrown = await rejection(thrower.connectRealtime(() => undefined));
    expect(thrown.message).toMatch(/refresh endpoint down/);
  });

  it("requires a callback (Skapi's INVALID_REQUEST)", async () => {
    const sb = client({ token: await server.token('frank') });
    const error = await rejection(sb.connectRealtime(undefined as never));
    expect(error).toMatchObject({ code: 'INVALID_REQUEST', message: 'Callback must be a function.' });
    expect(server.server.connectionCount()).toBe(0);
  });

  it('validates options', () => {
    expect(() => new Switchboard({ url: '' })).toThrow(/url/);
    expect(() => new Switchboard({ url: 'ftp://example.com' })).toThrow(SwitchboardError);
    expect(() => new Switchboard({ url: 'https://x', token: 42 as never })).toThrow(/token/);
  });
});

describe('guests', () => {
  it('fetches a guest token with the name, and reuses it on reconnect', async () => {
    const sb = client({ name: 'Guest Gina' });
    const events = new Recorder();
    const first = await sb.connectRealtime(events.cb);
    expect(first.user.name).toBe('Guest Gina');
    expect(first.user.user_id).toMatch(/^guest-/);
    server.dropAll();
    const mark = events.mark();
    await events.waitFor((e) => e.type === 'success', mark);
    expect(sb.user?.user_id).toBe(first.user.user_id); // same guest identity: the cached token was reused
    expect(sb.cid).toMatch(/^cid:/);
  });

  it('two guests get different identities', async () => {
    const [a, b] = [client({ name: 'A' }), client({})];
    const [ca, cb] = await Promise.all([a.connectRealtime(() => undefined), b.connectRealtime(() => undefined)]);
    expect(ca.user.user_id).not.toBe(cb.user.user_id);
    expect(cb.user.name).toBeNull();
  });

  it('fetches a new guest token when the cached one is refused (server restarted with a new secret)', async () => {
    const first = await startServer();
    let second: TestServer | null = null;
    try {
      const sb = new Switchboard({ url: first.url, name: 'Hopper', reconnect: fast });
      clients.push(sb);
      const events = new Recorder();
      const before = await sb.connectRealtime(events.cb);
      const mark = events.mark();
      await first.close(); // 4000: the SDK reconnects…
      await events.waitFor((e) => e.type === 'reconnect', mark);
      second = await startServer({ auth: { secrets: ['a-rotated-secret-0123456789abcdef'] } }, first.port);
      // …its cached guest token is refused (401) there, so it fetches a new one instead of giving up.
      await events.waitFor((e) => e.type === 'success', mark);
      expect(sb.user?.name).toBe('Hopper');
      expect(sb.user?.user_id).not.toBe(before.user.user_id);
      expect(events.count((e) => e.type === 'error' && e.error?.code === 'UNAUTHORIZED', mark)).toBe(0);
    } finally {
      await Promise.all(clients.splice(0).map((sb) => sb.closeRealtime()));
      await second?.close();
    }
  });

  it('reports GUESTS_DISABLED', async () => {
    const closed = await startServer({ guests: false });
    try {
      const sb = new Switchboard({ url: closed.url, name: 'x', reconnect: fast });
      const error = await rejection(sb.connectRealtime(() => undefined));
      expect(error.code).toBe('GUESTS_DISABLED');
    } finally {
      await closed.close();
    }
  });

  it('an app token takes precedence over a name', async () => {
    const sb = client({ token: await server.token('ivan', 'Ivan'), name: 'ignored' });
    expect((await sb.connectRealtime(() => undefined)).user).toEqual({ user_id: 'ivan', name: 'Ivan' });
  });
});
