import { describe, expect, it } from 'vitest';
import { join, startServer, useCleanup, type TestClient } from './helpers.js';

useCleanup();

describe('list_users', () => {
  it('defaults to the joined group, one row per connection, pages with an opaque cursor', async () => {
    const t = await startServer();
    const clients: TestClient[] = [];
    for (const user of ['dave', 'alice', 'carol', 'bob', 'alice']) {
      const c = await t.connect(user);
      await join(c, 'room');
      clients.push(c);
    }
    const other = await t.connect('erin');
    await join(other, 'elsewhere');
    const a = clients[1]!;

    const all = await a.call({ type: 'list_users' });
    expect(all.endOfList).toBe(true);
    expect(all.startKey).toBe('end');
    expect(all.list.map((r: { user_id: string }) => r.user_id)).toEqual(['alice', 'alice', 'bob', 'carol', 'dave']);
    for (const row of all.list) expect(Object.keys(row).sort()).toEqual(['cid', 'user_id']);

    const page1 = await a.call({ type: 'list_users', limit: 2 });
    expect(page1.list).toHaveLength(2);
    expect(page1.endOfList).toBe(false);
    expect(typeof page1.startKey).toBe('string');
    const page2 = await a.call({ type: 'list_users', limit: 2, startKey: page1.startKey });
    const page3 = await a.call({ type: 'list_users', limit: 2, startKey: page2.startKey });
    expect(page3).toMatchObject({ endOfList: true, startKey: 'end' });
    expect([...page1.list, ...page2.list, ...page3.list]).toEqual(all.list);

    const desc = await a.call({ type: 'list_users', ascending: false });
    expect(desc.list).toEqual([...all.list].reverse());

    const onlyAlice = await a.call({ type: 'list_users', user_id: 'alice' });
    expect(onlyAlice.list).toHaveLength(2);

    const elsewhere = await a.call({ type: 'list_users', group: 'elsewhere' });
    expect(elsewhere.list).toEqual([{ user_id: 'erin', cid: (await other.welcome).cid }]);
    expect((await a.call({ type: 'list_users', group: 'empty' })).list).toEqual([]);
    expect(await a.call({ type: 'list_users', startKey: 'end' })).toEqual({ list: [], startKey: 'end', endOfList: true });
  });

  it('errors: no group joined, limit over 1000, bad cursor', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    expect(await a.request({ type: 'list_users' })).toMatchObject({
      type: 'error',
      code: 'INVALID_REQUEST',
      message: 'No group has been joined. Otherwise "group" is required.',
    });
    await join(a, 'room');
    expect((await a.request({ type: 'list_users', limit: 1001 })).code).toBe('INVALID_PARAMETER');
    expect((await a.request({ type: 'list_users', startKey: '%%%' })).code).toBe('INVALID_PARAMETER');
    expect((await a.call({ type: 'list_users', limit: 1000 })).list).toHaveLength(1);
  });
});

describe('list_groups', () => {
  async function populate() {
    const t = await startServer();
    const layout: Record<string, number> = { Hello: 1, HelloWorld: 3, apple: 2, banana: 1, cherry: 4 };
    let first: TestClient | null = null;
    for (const [group, n] of Object.entries(layout)) {
      for (let i = 0; i < n; i++) {
        const c = await t.connect(`${group}-${i}`);
        await join(c, group);
        first ??= c;
      }
    }
    return first!;
  }
  const names = (page: { list: { group: string }[] }) => page.list.map((r) => r.group);

  it('lists all groups with their user counts (Skapi defaults: group > " ")', async () => {
    const c = await populate();
    const page = await c.call({ type: 'list_groups', searchFor: 'group', value: ' ' });
    expect(page).toEqual({
      list: [
        { group: 'Hello', number_of_users: 1 },
        { group: 'HelloWorld', number_of_users: 3 },
        { group: 'apple', number_of_users: 2 },
        { group: 'banana', number_of_users: 1 },
        { group: 'cherry', number_of_users: 4 },
      ],
      startKey: 'end',
      endOfList: true,
    });
  });

  it('applies conditions: >= on strings is starts-with; aliases; ranges; number_of_users', async () => {
    const c = await populate();
    const q = (params: Record<string, unknown>) => c.call({ type: 'list_groups', ...params });
    expect(names(await q({ searchFor: 'group', value: 'Hello', condition: '>=' }))).toEqual(['Hello', 'HelloWorld']);
    expect(names(await q({ searchFor: 'group', value: 'Hello', condition: 'gte' }))).toEqual(['Hello', 'HelloWorld']);
    expect(names(await q({ searchFor: 'group', value: 'Hello' }))).toEqual(['Hello']); // default '=' for a real value
    expect(names(await q({ searchFor: 'group', value: 'apple', condition: '>' }))).toEqual(['banana', 'cherry']);
    expect(names(await q({ searchFor: 'group', value: 'apple', condition: 'lt' }))).toEqual(['Hello', 'HelloWorld']);
    expect(names(await q({ searchFor: 'group', value: 'apple', condition: '!=' }))).toHaveLength(4);
    expect(names(await q({ searchFor: 'group', value: 'apple', range: 'banana', condition: '=' }))).toEqual(['apple', 'banana']);

    const byCount = await q({ searchFor: 'number_of_users', value: 2, condition: '>=' });
    expect(byCount.list).toEqual([
      { group: 'apple', number_of_users: 2 },
      { group: 'HelloWorld', number_of_users: 3 },
      { group: 'cherry', number_of_users: 4 },
    ]);
    expect(names(await q({ searchFor: 'number_of_users', value: 1 }))).toEqual(['Hello', 'banana']);
    expect(names(await q({ searchFor: 'number_of_users', value: 0 }))).toHaveLength(5); // falsy value → '>'
    expect(names(await q({ searchFor: 'number_of_users', value: 2, range: 3 }))).toEqual(['apple', 'HelloWorld']);
    expect(names(await q({ searchFor: 'number_of_users', value: 0, ascending: false }))[0]).toBe('cherry');
  });

  it("pages and validates value/range types with Skapi's messages", async () => {
    const c = await populate();
    const p1 = await c.call({ type: 'list_groups', searchFor: 'group', value: ' ', limit: 3 });
    expect(p1.endOfList).toBe(false);
    const p2 = await c.call({ type: 'list_groups', searchFor: 'group', value: ' ', limit: 3, startKey: p1.startKey });
    expect([...names(p1), ...names(p2)]).toEqual(['Hello', 'HelloWorld', 'apple', 'banana', 'cherry']);
    expect(p2.endOfList).toBe(true);

    const err = (params: Record<string, unknown>) => c.request({ type: 'list_groups', ...params });
    expect(await err({ searchFor: 'number_of_users', value: 'x' })).toMatchObject({ code: 'INVALID_PARAMETER', message: '"value" must be a number.' });
    expect(await err({ searchFor: 'group', value: 3 })).toMatchObject({ code: 'INVALID_PARAMETER', message: '"value" must be a string.' });
    expect(await err({ searchFor: 'group', value: 'a', range: 3 })).toMatchObject({ code: 'INVALID_PARAMETER', message: '"range" must be a string.' });
    expect((await err({ searchFor: 'group', value: 'a', limit: 5000 })).code).toBe('INVALID_PARAMETER');
  });

  it('a group disappears when its last member leaves', async () => {
    const t = await startServer();
    const a = await t.connect('alice');
    await join(a, 'solo');
    expect(names(await a.call({ type: 'list_groups', searchFor: 'group', value: ' ' }))).toEqual(['solo']);
    await join(a, null);
    expect(names(await a.call({ type: 'list_groups', searchFor: 'group', value: ' ' }))).toEqual([]);
  });
});
