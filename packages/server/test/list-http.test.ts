/**
 * POST /v1/users and /v1/groups: the listings over HTTP with a Bearer token (no realtime
 * connection), validated by the list_users / list_groups schemas, answering the same pages.
 */
import { describe, expect, it } from 'vitest';
import { getJson, join, startServer, useCleanup } from './helpers.js';

useCleanup();

const post = (url: string, token: string | null, body: unknown) =>
  getJson(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('listings over HTTP', () => {
  it('users of a group and groups, the same pages as over the socket', async () => {
    const t = await startServer();
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    await join(alice, 'room');
    await join(bob, 'room');
    const token = await t.token('carol'); // carol has no connection at all

    const users = await post(`${t.url}/v1/users`, token, { group: 'room' });
    expect(users.status).toBe(200);
    expect(users.body).toEqual(await alice.call({ type: 'list_users', group: 'room' }));
    expect(users.body.list.map((r: { user_id: string }) => r.user_id)).toEqual(['alice', 'bob']);
    const paged = await post(`${t.url}/v1/users`, token, { group: 'room', limit: 1 });
    expect(paged.body).toMatchObject({ endOfList: false, list: [{ user_id: 'alice' }] });
    const next = await post(`${t.url}/v1/users`, token, { group: 'room', limit: 1, startKey: paged.body.startKey });
    expect(next.body.list).toMatchObject([{ user_id: 'bob' }]);

    const groups = await post(`${t.url}/v1/groups`, token, { searchFor: 'group', value: ' ', condition: '>' });
    expect(groups.status).toBe(200);
    expect(groups.body).toEqual({ list: [{ group: 'room', number_of_users: 2 }], startKey: 'end', endOfList: true });
  });

  it('a per-user budget (limits.httpListingsPerMinute): 429 RATE_LIMITED with Retry-After, other users unaffected', async () => {
    const t = await startServer({ limits: { httpListingsPerMinute: 3 } });
    const carol = await t.token('carol');
    for (let i = 0; i < 3; i++) expect((await post(`${t.url}/v1/groups`, carol, { searchFor: 'group', value: 'a' })).status).toBe(200);
    const refused = await post(`${t.url}/v1/groups`, carol, { searchFor: 'group', value: 'a' });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await post(`${t.url}/v1/groups`, await t.token('dave'), { searchFor: 'group', value: 'a' })).status).toBe(200);
  });

  it('errors: no token, a bad token, no group (none joined over HTTP), schema violations, GET', async () => {
    const t = await startServer();
    const token = await t.token('carol');
    expect(await post(`${t.url}/v1/users`, null, { group: 'room' })).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    expect(await post(`${t.url}/v1/users`, 'not-a-jwt', { group: 'room' })).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    expect(await post(`${t.url}/v1/users`, token, {})).toMatchObject({
      status: 400,
      body: { code: 'INVALID_REQUEST', message: 'No group has been joined. Otherwise "group" is required.' },
    });
    expect(await post(`${t.url}/v1/users`, token, { group: 'room', limit: 1001 })).toMatchObject({ status: 400, body: { code: 'INVALID_PARAMETER' } });
    expect(await post(`${t.url}/v1/groups`, token, { searchFor: 'colour', value: 'x' })).toMatchObject({ status: 400, body: { code: 'INVALID_PARAMETER' } });
    expect(await post(`${t.url}/v1/groups`, token, [1])).toMatchObject({ status: 400, body: { code: 'INVALID_REQUEST' } });
    expect(await post(`${t.url}/v1/groups`, token, '{')).toMatchObject({ status: 400, body: { code: 'INVALID_REQUEST' } });
    // The body cannot smuggle another frame type past the schema.
    expect(await post(`${t.url}/v1/users`, token, { type: 'post', to: 'x', message: 1, group: 'room' })).toMatchObject({ status: 200 });
    expect((await getJson(`${t.url}/v1/users`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(405);
  });
});
