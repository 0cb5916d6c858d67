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

  it('after Redis lost its data the epoch is new (old tokens: epoch_changed)', async () => {
    const { store, prefix } = make();
    const before = await store.epoch();
    await client().del(`${prefix}epoch`);
    expect(await store.epoch()).not.toBe(before);
  });
});
