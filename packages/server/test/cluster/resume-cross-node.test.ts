/**
 * Resume across nodes: the live resume suite on three nodes sharing one Redis, every resume
 * landing on another node than the one the connection left (resume-helpers.ts nextNode), and a
 * node shut down (SIGTERM's path, server.close()) whose clients resume elsewhere with their cids.
 */
import { afterAll, expect, it } from 'vitest';
import { join, setClusterMode, startServer, useCleanup } from '../helpers.js';
import { connectResume, lastSeqOf } from '../resume-helpers.js';
import { describeRedis, redisMissing, startRedis } from './redis.js';

if (redisMissing === null) {
  const redis = await startRedis();
  setClusterMode({ redisUrl: redis.url, nodes: 3 });
  afterAll(() => redis.stop());
  await import('../resume-live.test.js');
}

useCleanup();

describeRedis('resume when a node shuts down', () => {
  it('its clients resume on another node with the same cids, nothing lost, the group told nothing', async () => {
    const t = await startServer();
    const [n1, n2, n3] = t.nodes as [(typeof t.nodes)[number], (typeof t.nodes)[number], (typeof t.nodes)[number]];
    const watcher = await n1.connect('watcher');
    const leaving = [await n3.connect('bob'), await n3.connect('carol')];
    await join(watcher, 'room');
    for (const c of leaving) await join(c, 'room');
    const welcomes = await Promise.all(leaving.map((c) => c.welcome));
    const lastSeqs = leaving.map((c) => lastSeqOf(c));

    const closing = n3.server.close();
    for (const c of leaving) expect((await c.closed).code).toBe(4000);
    // Posted while the node is going and after it left: all of it must arrive.
    for (let i = 1; i <= 3; i++) expect((await watcher.request({ type: 'post', to: 'room', message: { n: i } })).result).toEqual({ delivered: 3 });
    await closing;
    for (let i = 4; i <= 5; i++) expect((await watcher.request({ type: 'post', to: 'room', message: { n: i } })).result).toEqual({ delivered: 3 });

    const resumed = await Promise.all(leaving.map((_, i) => connectResume(t, i === 0 ? n1 : n2, i === 0 ? 'bob' : 'carol', welcomes[i]!.resume, lastSeqs[i]!)));
    for (const [i, c] of resumed.entries()) {
      const welcome = await c.welcome;
      expect(welcome).toMatchObject({ cid: welcomes[i]!.cid, resumed: true });
      for (let n = 1; n <= 5; n++) await c.waitFor((f) => f.type === 'message' && f.message.n === n);
      await c.sync();
      expect(c.all('message').map((f) => f.message.n)).toEqual([1, 2, 3, 4, 5]);
    }
    // Live traffic reaches them on their new nodes.
    await watcher.request({ type: 'post', to: 'room', message: { n: 6 } });
    for (const c of resumed) await c.waitFor((f) => f.type === 'message' && f.message.n === 6);
    await watcher.sync();
    expect(watcher.all((f) => f.type === 'notice' && f.code !== 'USER_JOINED')).toEqual([]);
    expect((await watcher.call({ type: 'list_users', group: 'room' })).list).toHaveLength(3);
  });
});
