import { mkdirSync, writeFileSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { getJson, join, SECRET, startServer, tempDir, TestClient, useCleanup } from './helpers.js';

useCleanup();

describe('HTTP API', () => {
  it('GET /healthz answers 200 JSON', async () => {
    const t = await startServer();
    const res = await getJson(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.body).toMatchObject({ status: 'ok', node: t.server.node, connections: 0 });
  });

  it('GET /v1/info lists the URL the request used, plus LAN addresses when listening on every interface', async () => {
    const t = await startServer();
    const res = await getJson(`${t.url}/v1/info`);
    expect(res.status).toBe(200);
    const body = res.body as { node: string; urls: string[] };
    expect(body.node).toBe(t.server.node);
    expect(body.urls[0]).toBe(`${t.url}/`);
    expect(new Set(body.urls).size).toBe(body.urls.length);
  });

  it('GET /metrics exposes connections, groups, messages in/out by type and errors by code', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    await join(a, 'room');
    a.send({ type: 'bogus' });
    await a.waitFor('error');
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/^switchboard_connections 1$/m);
    expect(text).toMatch(/^switchboard_groups 1$/m);
    expect(text).toMatch(/^switchboard_messages_in_total\{type="join"\} 1$/m);
    expect(text).toMatch(/^switchboard_messages_in_total\{type="invalid"\} 1$/m);
    expect(text).toMatch(/^switchboard_messages_out_total\{type="welcome"\} 1$/m);
    expect(text).toMatch(/^switchboard_messages_out_total\{type="notice"\} 1$/m);
    expect(text).toMatch(/^switchboard_errors_total\{code="UNKNOWN_TYPE"\} 1$/m);
    await a.close();
    await expect.poll(async () => (await (await fetch(`${t.url}/metrics`)).text()).match(/^switchboard_connections (\d+)$/m)?.[1]).toBe('0');
  });

  it('POST /v1/guest issues a working token with a guest-… user_id', async () => {
    const t = await startServer({ auth: { guestTtlSeconds: 600 } });
    const res = await getJson(`${t.url}/v1/guest`, {
      method: 'POST',
      body: JSON.stringify({ name: '  Guest Gail ' }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(res.body.user.user_id).toMatch(/^guest-[A-Za-z0-9_-]+$/);
    expect(res.body.user.name).toBe('Guest Gail');
    expect(res.body.expiresAt).toBeGreaterThan(Date.now() + 590_000);
    expect(res.body.expiresAt).toBeLessThanOrEqual(Date.now() + 601_000);
    const client = await TestClient.open(t.wsUrl, { token: res.body.token });
    expect((await client.welcome).user).toEqual(res.body.user);
    const other = await getJson(`${t.url}/v1/guest`, { method: 'POST', body: '{}' });
    expect(other.body.user.user_id).not.toBe(res.body.user.user_id);
    expect(other.body.user.name).toBeNull();
  });

  it('POST /v1/guest validates the name and the body', async () => {
    const t = await startServer();
    const long = await getJson(`${t.url}/v1/guest`, { method: 'POST', body: JSON.stringify({ name: 'x'.repeat(65) }) });
    expect(long).toMatchObject({ status: 400, body: { code: 'INVALID_PARAMETER' } });
    const wrongType = await getJson(`${t.url}/v1/guest`, { method: 'POST', body: JSON.stringify({ name: 5 }) });
    expect(wrongType).toMatchObject({ status: 400, body: { code: 'INVALID_PARAMETER', message: '"name" must be a string.' } });
    const notJson = await getJson(`${t.url}/v1/guest`, { method: 'POST', body: '{oops' });
    expect(notJson).toMatchObject({ status: 400, body: { code: 'INVALID_REQUEST' } });
    const get = await getJson(`${t.url}/v1/guest`);
    expect(get).toMatchObject({ status: 405, body: { code: 'INVALID_REQUEST' } });
  });

  it('POST /v1/guest is 403 GUESTS_DISABLED when guests are off', async () => {
    const t = await startServer({ guests: false });
    const res = await getJson(`${t.url}/v1/guest`, { method: 'POST', body: '{"name":"x"}' });
    expect(res).toMatchObject({ status: 403, body: { code: 'GUESTS_DISABLED' } });
    expect(typeof res.body.message).toBe('string');
  });

  it('GET /v1/session and /v1/ice need a Bearer token and explain 401s', async () => {
    const t = await startServer({ ice: { stun: ['stun:stun.example.com:3478'] } });
    const token = await t.token('alice', { name: 'Alice' });
    const auth = { headers: { Authorization: `Bearer ${token}` } };
    const session = await getJson(`${t.url}/v1/session`, auth);
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ user: { user_id: 'alice', name: 'Alice' }, connections: { open: 0, max: 20 } });
    const ice = await getJson(`${t.url}/v1/ice`, auth);
    expect(ice).toMatchObject({ status: 200, body: { iceServers: [{ urls: ['stun:stun.example.com:3478'] }], iceExpiresAt: null } });

    expect(await getJson(`${t.url}/v1/session`)).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    expect(await getJson(`${t.url}/v1/ice`, { headers: { Authorization: 'Bearer nope' } })).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode(SECRET));
    const res = await getJson(`${t.url}/v1/session`, { headers: { Authorization: `Bearer ${expired}` } });
    expect(res).toMatchObject({ status: 401, body: { code: 'TOKEN_EXPIRED', message: 'The token has expired.' } });
  });

  it('sends CORS headers (any origin by default) and answers preflights', async () => {
    const t = await startServer();
    const res = await fetch(`${t.url}/v1/session`, { headers: { Origin: 'https://app.example.com' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const pre = await fetch(`${t.url}/v1/guest`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')).toContain('Authorization');
  });

  it('restricts CORS to configured origins', async () => {
    const t = await startServer({ cors: { origins: ['https://good.example'] } });
    const good = await fetch(`${t.url}/healthz`, { headers: { Origin: 'https://good.example' } });
    expect(good.headers.get('access-control-allow-origin')).toBe('https://good.example');
    const bad = await fetch(`${t.url}/healthz`, { headers: { Origin: 'https://evil.example' } });
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves a static directory with content types, index.html and no traversal', async () => {
    const dir = tempDir();
    mkdirSync(pathJoin(dir, 'assets'));
    writeFileSync(pathJoin(dir, 'index.html'), '<!doctype html><title>demo</title>');
    writeFileSync(pathJoin(dir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(pathJoin(dir, 'assets', 'style.css'), 'body{}');
    writeFileSync(pathJoin(dir, 'assets', 'logo.svg'), '<svg/>');
    const t = await startServer({ staticDir: dir });
    const index = await fetch(`${t.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await index.text()).toContain('<title>demo</title>');
    expect((await fetch(`${t.url}/assets/app.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${t.url}/assets/style.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${t.url}/assets/logo.svg`)).headers.get('content-type')).toBe('image/svg+xml');
    const missing = await getJson(`${t.url}/nope.js`);
    expect(missing).toMatchObject({ status: 404, body: { code: 'INVALID_REQUEST' } });
    expect((await getJson(`${t.url}/..%2f..%2fetc%2fpasswd`)).status).toBe(404);
    expect((await getJson(`${t.url}/healthz`)).status).toBe(200); // the API still wins
  });

  it('answers JSON errors for unknown paths and plain GETs of the realtime endpoint', async () => {
    const t = await startServer();
    expect(await getJson(`${t.url}/nothing-here`)).toMatchObject({ status: 404, body: { code: 'INVALID_REQUEST' } });
    expect(await getJson(`${t.url}/v1/realtime`)).toMatchObject({ status: 426, body: { code: 'INVALID_REQUEST' } });
  });
});
