/**
 * A group post in a cluster with resume on: the post and its ack are buffered in one script call
 * (ReplayStore.appendWithAck), and the ack still reaches the sender numbered, after its own copy of
 * the post, and again after a resume on another node when the socket died before it arrived.
 */
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { join, startServer, useCleanup, type Frame, type TestServer } from '../helpers.js';
import { connectResume, lastSeqOf } from '../resume-helpers.js';
import { describeRedis, useRedisCluster } from './redis.js';

useCleanup();

describeRedis('a group post and its ack in a cluster', () => {
  const cluster = useRedisCluster(2);

  /** Runs `body` with every script call Redis runs that names one of `cids` (its MONITOR's view) listed in `calls`. */
  async function countingScriptCalls(cids: string[], body: (calls: string[][]) => Promise<void>): Promise<void> {
    const client = new Redis(cluster.redis.url);
    const monitor = await client.monitor();
    const calls: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (/^evalsha$/i.test(args[0] ?? '') && args.some((arg) => cids.includes(arg))) calls.push(args);
    });
    try {
      await body(calls);
    } finally {
      monitor.disconnect();
      await client.quit();
    }
  }

  /** A fresh two-node server: its nodes. */
  async function twoNodes(): Promise<[TestServer, TestServer['nodes'][number], TestServer['nodes'][number]]> {
    const t = await startServer();
    return [t, t.nodes[0]!, t.nodes[1]!];
  }

  it('is one script call per post; the ack is numbered after the sender’s own copy and carries the count', async () => {
    const [, n1, n2] = await twoNodes();
    const sender = await n1.connect('alice');
    const members = [await n1.connect('bob'), await n2.connect('carol')];
    await join(sender, 'room');
    for (const c of members) await join(c, 'room');
    const cid = (await sender.welcome)['cid'] as string;

    await countingScriptCalls([cid], async (scriptCalls) => {
      for (let n = 1; n <= 5; n++) {
        const ack = await sender.request({ type: 'post', to: 'room', message: { n } });
        expect(ack).toMatchObject({ type: 'ack', result: { delivered: 3 } });
        const own = sender.all((f) => f.type === 'message' && (f['message'] as { n: number }).n === n);
        expect(own).toHaveLength(1);
        expect(ack['seq']).toBe((own[0]!['seq'] as number) + 1);
      }
      for (const c of members) await c.waitFor((f) => f.type === 'message' && (f['message'] as { n: number }).n === 5);
      // The appends naming the sender: one per post (its ack rides in it), none for the acks alone.
      await expect.poll(() => scriptCalls.length, { timeout: 5_000 }).toBe(5);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(scriptCalls).toHaveLength(5);
    });
  });

  it('a post to a cid and a call signal to a peer on another node: one script call each, acked; a post to nobody still gets its error', async () => {
    const [, n1, n2] = await twoNodes();
    const caller = await n1.connect('alice');
    const callee = await n2.connect('bob');
    await join(caller, 'room');
    await join(callee, 'room');
    const [cid, calleeCid] = [(await caller.welcome)['cid'] as string, (await callee.welcome)['cid'] as string];

    await countingScriptCalls([cid, calleeCid], async (scriptCalls) => {
      const posted = await caller.request({ type: 'post', to: calleeCid, message: 'hi' });
      expect(posted).toMatchObject({ type: 'ack', result: { delivered: 1 } });
      const invited = await caller.request({ type: 'rtc', to: calleeCid, call: 'c1', signal: { kind: 'invite' } });
      expect(invited).toMatchObject({ type: 'ack', result: { delivered: 1 } });
      const offer = { kind: 'description', description: { type: 'offer', sdp: 'v=0\r\n' } };
      const described = await caller.request({ type: 'rtc', to: calleeCid, call: 'c1', signal: offer });
      expect(described).toMatchObject({ type: 'ack', result: { delivered: 1 } });
      expect([posted['seq'], invited['seq'], described['seq']].every((seq) => typeof seq === 'number')).toBe(true);
      await callee.waitFor((f) => f.type === 'rtc' && (f['signal'] as { kind: string }).kind === 'description');
      await expect.poll(() => scriptCalls.length, { timeout: 5_000 }).toBe(3);

      callee.terminate();
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Away, bob's connection is held: the post is buffered for it and counts.
      expect(await caller.request({ type: 'post', to: calleeCid, message: 'later' })).toMatchObject({ type: 'ack', result: { delivered: 1 } });
      expect(await caller.request({ type: 'post', to: 'cid:nobody', message: 'x' })).toMatchObject({ type: 'error', code: 'RECIPIENT_NOT_FOUND' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(scriptCalls).toHaveLength(5); // the post to bob, then the error (numbered: a call of its own)
    });
  });

  it('the ack is buffered with the post: a resume on another node from before the post replays both, once each', async () => {
    const [t, n1, n2] = await twoNodes();
    const sender = await n1.connect('alice');
    const member = await n2.connect('carol');
    await join(sender, 'room');
    await join(member, 'room');
    const welcome = await sender.welcome;
    const before = lastSeqOf(sender);
    const ack = await sender.request({ type: 'post', to: 'room', message: { n: 1 } });
    await member.waitFor((f) => f.type === 'message' && (f['message'] as { n: number }).n === 1);
    sender.terminate();

    const resumed = await connectResume(t, n2, 'alice', welcome['resume'] as string, before);
    expect(await resumed.welcome).toMatchObject({ cid: welcome['cid'], resumed: true });
    const replayed = await resumed.waitFor((f: Frame) => f.type === 'ack' && f['id'] === ack['id']);
    expect(replayed).toEqual(ack);
    await resumed.sync();
    expect(resumed.all((f) => f.type === 'ack' && f['id'] === ack['id'])).toHaveLength(1);
    expect(resumed.all('message').map((f) => (f['message'] as { n: number }).n)).toEqual([1]);
    expect(resumed.all('message')[0]!['seq']).toBe((ack['seq'] as number) - 1);
  });
});
