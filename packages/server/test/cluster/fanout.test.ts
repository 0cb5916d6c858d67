/**
 * Routing across nodes: a group frame crosses Redis once per node holding members (not once
 * per member), a direct frame goes only to the node holding the target, and nothing is
 * published for members on the sender's own node. Counted with the nodes' /metrics.
 */
import { expect, it } from 'vitest';
import { getJson, join, startServer, TestClient, useCleanup, type TestServer } from '../helpers.js';
import { describeRedis, useRedisCluster } from './redis.js';

useCleanup();

async function counter(node: TestServer['nodes'][number], name: string, kind: 'group' | 'direct'): Promise<number> {
  const { body } = await getJson(`${node.address.url}/metrics`);
  const line = String(body)
    .split('\n')
    .find((l) => l.startsWith(`${name}{kind="${kind}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}
const published = (n: TestServer['nodes'][number], kind: 'group' | 'direct') => counter(n, 'switchboard_cluster_published_total', kind);
const received = (n: TestServer['nodes'][number], kind: 'group' | 'direct') => counter(n, 'switchboard_cluster_received_total', kind);

describeRedis('cluster routing', () => {
  useRedisCluster(3);

  it('a group post reaches 9 members on 3 nodes with one publish per other node', async () => {
    const t = await startServer();
    const clients: TestClient[][] = [[], [], []];
    for (let i = 0; i < 9; i++) {
      const c = await t.nodes[i % 3]!.connect(`u${i}`);
      await join(c, 'room');
      clients[i % 3]!.push(c);
    }
    for (const list of clients) for (const c of list) await c.sync();
    const before = await Promise.all([published(t.nodes[0]!, 'group'), received(t.nodes[1]!, 'group'), received(t.nodes[2]!, 'group')]);
    const reply = await clients[0]![0]!.request({ type: 'post', to: 'room', message: { n: 1 } });
    expect(reply.result).toEqual({ delivered: 9 });
    for (const list of clients) {
      for (const c of list) {
        expect(await c.waitFor('message')).toMatchObject({ message: { n: 1 }, sender: 'u0', sender_rid: 'room' });
        await c.sync();
        expect(c.all('message')).toHaveLength(1);
      }
    }
    const after = await Promise.all([published(t.nodes[0]!, 'group'), received(t.nodes[1]!, 'group'), received(t.nodes[2]!, 'group')]);
    expect(after.map((n, i) => n - before[i]!)).toEqual([2, 1, 1]);
  });

  it("no publish when every member is on the sender's node; a direct message goes only to the target's node", async () => {
    const t = await startServer();
    const a = await t.nodes[0]!.connect('alice');
    const a2 = await t.nodes[0]!.connect('anna');
    const c = await t.nodes[2]!.connect('carol');
    await join(a, 'local');
    await join(a2, 'local');
    const groupBefore = await published(t.nodes[0]!, 'group');
    expect((await a.request({ type: 'post', to: 'local', message: 'hi' })).result).toEqual({ delivered: 2 });
    expect(await published(t.nodes[0]!, 'group')).toBe(groupBefore);

    const cCid = (await c.welcome).cid as string;
    const direct = await Promise.all([published(t.nodes[0]!, 'direct'), received(t.nodes[1]!, 'direct'), received(t.nodes[2]!, 'direct')]);
    expect((await a.request({ type: 'post', to: cCid, message: 'psst' })).result).toEqual({ delivered: 1 });
    expect(await c.waitFor('private')).toMatchObject({ message: 'psst', sender: 'alice', sender_rid: null });
    const after = await Promise.all([published(t.nodes[0]!, 'direct'), received(t.nodes[1]!, 'direct'), received(t.nodes[2]!, 'direct')]);
    expect(after.map((n, i) => n - direct[i]!)).toEqual([1, 0, 1]);
  });

  it('a private message to a user_id reaches each of their connections on every node once', async () => {
    const t = await startServer();
    const a = await t.nodes[0]!.connect('alice');
    const bobs = [await t.nodes[1]!.connect('bob'), await t.nodes[2]!.connect('bob'), await t.nodes[2]!.connect('bob')];
    expect((await a.request({ type: 'post', to: 'bob', message: 'all of you' })).result).toEqual({ delivered: 3 });
    for (const b of bobs) {
      await b.waitFor('private');
      await b.sync();
      expect(b.all('private')).toHaveLength(1);
    }
  });

  it('listings and connection counts are cluster-wide', async () => {
    const t = await startServer({ limits: { maxConnectionsPerUser: 2 } });
    const cids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await t.nodes[i % 3]!.connect(`user${i}`);
      await join(c, i < 4 ? 'big' : 'small');
      cids.push((await c.welcome).cid);
    }
    const reader = await t.nodes[1]!.connect('reader');
    const users = await reader.call({ type: 'list_users', group: 'big', limit: 3 });
    expect(users.list.map((u: { user_id: string }) => u.user_id)).toEqual(['user0', 'user1', 'user2']);
    const rest = await reader.call({ type: 'list_users', group: 'big', limit: 3, startKey: users.startKey });
    expect(rest).toMatchObject({ list: [{ user_id: 'user3', cid: cids[3] }], endOfList: true });
    const groups = await reader.call({ type: 'list_groups', searchFor: 'number_of_users', value: 0, condition: '>', ascending: false });
    expect(groups.list).toEqual([
      { group: 'big', number_of_users: 4 },
      { group: 'small', number_of_users: 2 },
    ]);
    // The per-user limit counts connections on every node.
    await t.nodes[0]!.connect('dup');
    await t.nodes[1]!.connect('dup');
    await expect(t.nodes[2]!.connect('dup')).rejects.toThrow(/429/);
  });

  it('a guest token minted by one node opens a connection on another (one secret for the cluster)', async () => {
    const t = await startServer();
    const { status, body } = await getJson(`${t.nodes[0]!.address.url}/v1/guest`, { method: 'POST', body: JSON.stringify({ name: 'Gail' }) });
    expect(status).toBe(200);
    const client = await TestClient.open(t.nodes[2]!.address.realtimeUrl, { token: body.token });
    expect(await client.welcome).toMatchObject({ user: { user_id: body.user.user_id, name: 'Gail' }, node: t.nodes[2]!.server.node });
  });
});
