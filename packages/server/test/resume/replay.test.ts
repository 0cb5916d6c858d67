/**
 * The replay stores against the decision table: memory, and Redis on a real redis-server
 * (plus what only Redis does: publishing with the append, rerouting the cid on a claim, TTLs).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryReplayStore } from '../../src/resume/memory-replay.js';
import { createRedisReplayStore } from '../../src/resume/redis-replay.js';
import { buildFrame } from '../../src/state/delivery.js';
import { describeRedis, startRedis, type RedisHandle } from '../cluster/redis.js';
import { replayTable, TABLE_LIMITS, type Harness } from './replay-table.js';

const START = 1_700_000_000_000;

describe('memory replay store', () => {
  replayTable(async () => {
    const clock = { now: START };
    return { clock, store: createMemoryReplayStore(TABLE_LIMITS, { now: () => clock.now }) };
  });

  it('a new store has a new epoch (a restarted node refuses old tokens)', async () => {
    const a = createMemoryReplayStore(TABLE_LIMITS);
    const b = createMemoryReplayStore(TABLE_LIMITS);
    expect(await a.epoch()).not.toBe(await b.epoch());
  });
});

describeRedis('redis replay store', () => {
  let redis: RedisHandle;
  const clients: Redis[] = [];
  let prefixes = 0;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await redis?.stop();
  });

  const client = () => {
    const c = new Redis(redis.url, { lazyConnect: false, maxRetriesPerRequest: 0 });
    clients.push(c);
    return c;
  };
  const make = (node = 'n1', prefix = `rp${++prefixes}:`) => {
    const clock = { now: START };
    const store = createRedisReplayStore({ redis: client(), prefix, node, limits: TABLE_LIMITS, now: () => clock.now });
    return { clock, store, prefix };
  };

  replayTable(async (): Promise<Harness> => make());

  it("appends and publishes in one step: remote owners get the frame with each cid's seq, own cids are not published", async () => {
    const { store, prefix } = make('n1');
    const raw = client();
    await store.open('cid:here', 'alice', 'n1');
    await store.open('cid:there', 'bob', 'n2');
    await raw.hset(`${prefix}cn`, 'cid:here', 'n1', 'cid:there', 'n2');
    await store.append(['cid:there'], buildFrame({ type: 'notice', code: 'USER_JOINED', message: 'm', sender: 'x', sender_cid: 'cid:x', sender_rid: 'g' }));

    const sub = client();
    const received: Buffer[] = [];
    await sub.subscribe(`${prefix}n:n2`);
    sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => received.push(message));
    const frame = buildFrame({ type: 'private', message: 'hi', sender: 'x', sender_cid: 'cid:x', sender_rid: null });
    const appended = await store.append(['cid:here', 'cid:there'], frame);
    expect(appended).toEqual([
      { cid: 'cid:here', seq: 1, node: 'n1' },
      { cid: 'cid:there', seq: 2, node: 'n2', published: true },
    ]);
    expect(store.lastPublished).toEqual(new Map([['n2', 1]]));
    await expect.poll(() => received.length).toBe(1);
    const text = received[0]!.toString('utf8');
    const newline = text.indexOf('\n');
    expect(JSON.parse(text.slice(0, newline))).toEqual({ k: 'c', t: 'private', c: ['cid:there'], s: [2] });
    expect(text.slice(newline + 1)).toBe(frame.data.toString('utf8'));
  });

  it("buffers a request's ack with its frame, counted as the node counts; not when a target's socket may be here without a hold", async () => {
    const { store, prefix } = make('n1');
    const raw = client();
    await store.open('cid:me', 'alice', 'n1');
    await store.open('cid:far', 'bob', 'n2');
    await raw.hset(`${prefix}cn`, 'cid:me', 'n1', 'cid:far', 'n2', 'cid:gone', 'n3', 'cid:bare', 'n1');
    const frame = buildFrame({ type: 'message', message: 'hi', sender: 'alice', sender_cid: 'cid:me', sender_rid: 'room' });
    const ack = { cid: 'cid:me', head: '{"type":"ack","id":7,"result":{"delivered":', tail: '}}' };
    // cid:gone has no hold and its node does not listen: not counted, as the node would not count it.
    const done = await store.appendWithAck!(['cid:me', 'cid:far', 'cid:gone'], frame, true, ack);
    expect(done.appended.map((a) => a.seq)).toEqual([1, 1, 0]);
    expect(done.ack).toEqual({ seq: 2, delivered: 2 });
    const stream = await raw.xrange(`${prefix}rf:cid:me`, '-', '+');
    expect(stream.map(([, fields]) => fields[3])).toEqual([frame.data.toString('utf8'), '{"type":"ack","id":7,"result":{"delivered":2}}']);
    // cid:bare is on this node without a hold: only its socket can say whether it took the frame.
    const open = await store.appendWithAck!(['cid:me', 'cid:bare'], frame, true, ack);
    expect(open.ack).toBeNull();
    expect(await raw.xlen(`${prefix}rf:cid:me`)).toBe(3);
  });

  it('a claim reroutes the cid to the resuming node atomically (routing, node set, group counts)', async () => {
    const a = make('nA');
    const b = createRedisReplayStore({ redis: client(), prefix: a.prefix, node: 'nB', limits: TABLE_LIMITS, now: () => a.clock.now });
    const raw = client();
    const P = a.prefix;
    const { epoch } = await a.store.open('cid:moving', 'alice', 'nA');
    await raw.hset(`${P}c:cid:moving`, 'u', 'alice', 'nd', 'nA', 't', '1', 'g', 'room');
    await raw.hset(`${P}cn`, 'cid:moving', 'nA');
    await raw.sadd(`${P}nc:nA`, 'cid:moving');
    await raw.hset(`${P}gx:room`, 'nA', '1');
    await a.store.append(['cid:moving'], buildFrame({ type: 'private', message: 1, sender: 'x', sender_cid: 'cid:x', sender_rid: null }));
    await a.store.away('cid:moving');
    expect(await raw.pttl(`${P}rh:cid:moving`)).toBeGreaterThan(0);
    expect(await raw.zscore(`${P}ra`, 'cid:moving')).toBe(String(START + TABLE_LIMITS.windowMs));

    const result = await b.claim({ userId: 'alice', cid: 'cid:moving', epoch, generation: 0 }, 0, 'nB');
    expect(result).toMatchObject({ resumed: true, previousNode: 'nA', replayTo: 1, generation: 1 });
    expect(await raw.hget(`${P}c:cid:moving`, 'nd')).toBe('nB');
    expect(await raw.hget(`${P}cn`, 'cid:moving')).toBe('nB');
    expect(await raw.sismember(`${P}nc:nA`, 'cid:moving')).toBe(0);
    expect(await raw.sismember(`${P}nc:nB`, 'cid:moving')).toBe(1);
    expect(await raw.hgetall(`${P}gx:room`)).toEqual({ nB: '1' });
    expect(await raw.pttl(`${P}rh:cid:moving`)).toBe(-1);
    expect(await raw.pttl(`${P}rf:cid:moving`)).toBe(-1);
    expect(await raw.zscore(`${P}ra`, 'cid:moving')).toBeNull();
    // The old node's appends now route to the new owner.
    const appended = await a.store.append(['cid:moving'], buildFrame({ type: 'private', message: 2, sender: 'x', sender_cid: 'cid:x', sender_rid: null }));
    expect(appended).toEqual([{ cid: 'cid:moving', seq: 2, node: 'nB', published: false }]);
  });

  it("delivery probes' confirmations of many connections reach Redis as one script call", async () => {
    const { store, prefix } = make();
    const raw = client();
    const cids = ['cid:p1', 'cid:p2', 'cid:p3'];
    for (const cid of cids) await store.open(cid, 'alice', 'n1');
    const frame = buildFrame({ type: 'private', message: 1, sender: 'x', sender_cid: 'cid:x', sender_rid: null });
    for (let n = 0; n < 4; n++) await store.append(cids, frame);
    // Every script call that names one of these cids, as Redis's MONITOR sees it.
    const monitor = await raw.monitor();
    const scriptCalls: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (/^eval(sha)?$/i.test(args[0] ?? '') && args.some((arg) => cids.includes(arg))) scriptCalls.push(args);
    });
    try {
      for (const [i, cid] of cids.entries()) store.received(cid, 1 + i);
      store.received('cid:p1', 2); // a later probe of the same connection in the same batch
      // Frames left in each stream (4 appended; 2, 2 and 3 confirmed), read without a script.
      await expect.poll(() => Promise.all(cids.map((cid) => raw.xlen(`${prefix}rf:${cid}`))), { timeout: 5_000 }).toEqual([2, 2, 1]);
      await expect.poll(() => scriptCalls.length, { timeout: 5_000 }).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 200)); // nothing else follows
      expect(scriptCalls).toHaveLength(1);
      expect(scriptCalls[0]!.slice(-6)).toEqual(['cid:p1', '2', 'cid:p2', '2', 'cid:p3', '3']);
    } finally {
      monitor.disconnect();
    }
    expect(await store.snapshot('cid:p1')).toMatchObject({ topSeq: 4, firstSeq: 3 });
  });

  it('the request log keeps the newest 1,024 requests, trimmed once every 64 (one command per request otherwise)', async () => {
    const { store, prefix } = make();
    const raw = client();
    const monitor = await raw.monitor();
    const trims: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (/^zremrangebyrank$/i.test(args[0] ?? '')) trims.push(args);
    });
    try {
      for (let n = 1; n <= 1_100; n++) store.logRequest('cid:busy', 10_000 + n, n <= 600 ? 0 : 1, n);
      // 1,100 requests: trimmed at 1,024 and 1,088; the 12 after the last trim are kept on top.
      await expect.poll(() => raw.zcard(`${prefix}rq:cid:busy`), { timeout: 15_000 }).toBe(1_024 + 12);
      await expect.poll(() => trims.length, { timeout: 15_000 }).toBe(17);
    } finally {
      monitor.disconnect();
    }
    const logged = await store.loggedRequests('cid:busy');
    expect(logged[0]).toEqual([10_000 + 65, 0]);
    expect(logged.at(-1)).toEqual([11_100, 1]);
    expect(logged.map(([id]) => id)).toEqual(Array.from({ length: 1_036 }, (_, i) => 10_065 + i));
  });

  it('after Redis lost its data the epoch is new (old tokens: epoch_changed)', async () => {
    const { store, prefix } = make();
    const before = await store.epoch();
    await client().del(`${prefix}epoch`);
    expect(await store.epoch()).not.toBe(before);
  });
});
