import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createIceProvider, turnCredential } from '../src/index.js';
import { startServer, useCleanup } from './helpers.js';

useCleanup();

const TURN = {
  stun: ['stun:stun.example.com:3478'],
  turn: ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349'],
  turnSecrets: ['coturn-secret', 'old-secret'],
  turnTtlSeconds: 3600,
};

describe('TURN REST credentials', () => {
  it('username is "<expiry>:<user_id>" and the credential is base64(HMAC-SHA1(secret, username))', () => {
    const { username, credential } = turnCredential('s3cret', 'alice', 1_700_000_000);
    expect(username).toBe('1700000000:alice');
    expect(credential).toBe(createHmac('sha1', 's3cret').update('1700000000:alice').digest('base64'));
    expect(Buffer.from(credential, 'base64')).toHaveLength(20);
  });

  it('builds iceServers from STUN + TURN, signing with the first secret', () => {
    const now = 1_700_000_000_000;
    const bundle = createIceProvider(TURN).forUser('bob', now);
    const expiry = 1_700_000_000 + 3600;
    expect(bundle.iceExpiresAt).toBe(expiry * 1000);
    expect(bundle.iceServers).toEqual([
      { urls: TURN.stun },
      { urls: TURN.turn, username: `${expiry}:bob`, credential: createHmac('sha1', 'coturn-secret').update(`${expiry}:bob`).digest('base64') },
    ]);
  });

  it('without TURN: only the STUN URLs (or nothing), and nothing expires', () => {
    expect(createIceProvider({ stun: [], turn: [], turnSecrets: [], turnTtlSeconds: 60 }).forUser('a')).toEqual({ iceServers: [], iceExpiresAt: null });
    expect(createIceProvider({ ...TURN, turn: [], turnSecrets: [] }).forUser('a')).toEqual({ iceServers: [{ urls: TURN.stun }], iceExpiresAt: null });
  });

  it('welcome carries credentials; `ice` requests get fresh ones; an `ice` frame arrives before they expire', async () => {
    const t = await startServer({ ice: { ...TURN, turnTtlSeconds: 2 } });
    const a = await t.connect('alice');
    const welcome = await a.welcome;
    const turn = welcome.iceServers[1];
    const [expiry, user] = turn.username.split(':');
    expect(user).toBe('alice');
    expect(Number(expiry) * 1000).toBe(welcome.iceExpiresAt);
    expect(turn.credential).toBe(createHmac('sha1', 'coturn-secret').update(turn.username).digest('base64'));

    const reply = await a.call({ type: 'ice' });
    expect(reply.iceServers).toHaveLength(2);
    expect(reply.iceExpiresAt).toBeGreaterThanOrEqual(welcome.iceExpiresAt);

    const refresh = await a.waitFor('ice', 3000);
    expect(Date.now()).toBeLessThan(welcome.iceExpiresAt); // pushed before the welcome's credentials expire
    expect(refresh.iceServers[1].username).toMatch(/^\d+:alice$/);
    expect(refresh.iceExpiresAt).toBeGreaterThan(welcome.iceExpiresAt);
  });

  it('rejects TURN URLs without a secret', async () => {
    await expect(startServer({ ice: { turn: ['turn:x:3478'] } })).rejects.toThrow(/ice\.turnSecrets: required/);
  });
});
