import { describe, expect, it } from 'vitest';
import { Heartbeat, SWEEP_BATCH, type Beating } from '../src/connection/heartbeat.js';
import { TimerWheel, type Clock } from '../src/connection/timer-wheel.js';

/** A clock whose time moves only when the test says; timers fire in time order, late when advance() jumps. */
class ManualClock implements Clock {
  time = 1_000_000;
  armed: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  /** Every delay the wheel asked for (one timer at a time: the wheel re-arms, never stacks). */
  delays: number[] = [];

  now = (): number => this.time;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.delays.push(ms);
    this.armed.push({ at: this.time + ms, fn, id });
    return id;
  };
  clearTimeout = (handle: unknown): void => {
    this.armed = this.armed.filter((t) => t.id !== handle);
  };

  /** Moves to `time + ms`, firing due timers (each at its own time, or all at the end when `late`). */
  advance(ms: number, { late = false } = {}): void {
    const end = this.time + ms;
    for (;;) {
      this.armed.sort((a, b) => a.at - b.at);
      const next = this.armed[0];
      if (!next || next.at > end) break;
      this.armed.shift();
      if (!late) this.time = Math.max(this.time, next.at);
      else this.time = end;
      next.fn();
    }
    this.time = end;
  }
}

function setup(resolutionMs = 100) {
  const clock = new ManualClock();
  const errors: unknown[] = [];
  const wheel = new TimerWheel(clock, (err) => errors.push(err));
  const fired: { item: string; at: number }[] = [];
  const lane = wheel.lane<string>((item) => fired.push({ item, at: clock.time }), resolutionMs);
  return { clock, wheel, lane, fired, errors };
}

describe('TimerWheel', () => {
  it('fires each deadline once, never early, rounded up to the resolution', () => {
    const { clock, lane, fired } = setup(100);
    const t0 = clock.time;
    lane.set('a', t0 + 250);
    lane.set('b', t0 + 300);
    clock.advance(299);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([
      { item: 'a', at: t0 + 300 },
      { item: 'b', at: t0 + 300 },
    ]);
    clock.advance(10_000);
    expect(fired).toHaveLength(2);
    expect(lane.size).toBe(0);
    expect(clock.armed).toHaveLength(0);
  });

  it('cancels, and moves an item when it is set again', () => {
    const { clock, lane, fired } = setup(10);
    const t0 = clock.time;
    lane.set('gone', t0 + 50);
    lane.set('moved', t0 + 50);
    lane.set('kept', t0 + 50);
    expect(lane.delete('gone')).toBe(true);
    expect(lane.delete('gone')).toBe(false);
    lane.set('moved', t0 + 500);
    clock.advance(100);
    expect(fired.map((f) => f.item)).toEqual(['kept']);
    clock.advance(400);
    expect(fired.map((f) => f.item)).toEqual(['kept', 'moved']);
  });

  it('fires in deadline order across buckets and lanes, and keeps one timer armed', () => {
    const { clock, wheel, lane, fired } = setup(1);
    const order: string[] = [];
    const other = wheel.lane<string>((item) => order.push(`other:${item}`), 1);
    const t0 = clock.time;
    const items = Array.from({ length: 200 }, (_, i) => ({ name: `i${i}`, at: t0 + 1 + ((i * 7919) % 1000) }));
    for (const { name, at } of items) lane.set(name, at);
    other.set('x', t0 + 500);
    clock.advance(2_000, { late: true }); // one late wake-up: everything due fires, earliest first
    const expected = [...items].sort((a, b) => a.at - b.at || Number(a.name.slice(1)) - Number(b.name.slice(1))).map((i) => i.name);
    expect(fired.map((f) => f.item)).toEqual(expected);
    expect(order).toEqual(['other:x']);
    expect(clock.armed.length).toBeLessThanOrEqual(1);
  });

  it('holds many entries in few buckets', () => {
    const { clock, wheel, lane, fired } = setup(1_000);
    const t0 = clock.time;
    for (let i = 0; i < 20_000; i++) lane.set(`c${i}`, t0 + 60_000 + (i % 5_000)); // 5 s of deadlines, 1 s buckets
    expect(lane.size).toBe(20_000);
    expect(wheel.pendingTimes).toBeLessThanOrEqual(6);
    for (let i = 0; i < 20_000; i += 2) lane.delete(`c${i}`);
    clock.advance(70_000);
    expect(fired).toHaveLength(10_000);
    expect(new Set(fired.map((f) => f.item)).size).toBe(10_000);
  });

  it('does not drift: a late wake-up does not push later deadlines back', () => {
    const { clock, lane, fired } = setup(1);
    const t0 = clock.time;
    for (let i = 1; i <= 5; i++) lane.set(`s${i}`, t0 + i * 1_000);
    // The timer for s1 fires 700 ms late; s2 still fires at its own time.
    clock.advance(1_700, { late: true });
    expect(fired).toEqual([{ item: 's1', at: t0 + 1_700 }]);
    clock.advance(3_300);
    expect(fired.slice(1)).toEqual([
      { item: 's2', at: t0 + 2_000 },
      { item: 's3', at: t0 + 3_000 },
      { item: 's4', at: t0 + 4_000 },
      { item: 's5', at: t0 + 5_000 },
    ]);
  });

  it('re-arms across delays longer than setTimeout allows', () => {
    const { clock, lane, fired } = setup(1_000);
    const far = clock.time + 40 * 24 * 3_600_000; // 40 days
    lane.set('far', far);
    expect(Math.max(...clock.delays)).toBeLessThanOrEqual(2 ** 31 - 1);
    clock.advance(30 * 24 * 3_600_000);
    expect(fired).toEqual([]);
    clock.advance(10 * 24 * 3_600_000);
    expect(fired).toEqual([{ item: 'far', at: far }]);
  });

  it('a throwing callback does not stop the others; a callback may cancel or add items', () => {
    const clock = new ManualClock();
    const errors: unknown[] = [];
    const wheel = new TimerWheel(clock, (err) => errors.push(err));
    const fired: string[] = [];
    const lane = wheel.lane<string>((item) => {
      fired.push(item);
      if (item === 'boom') throw new Error('boom');
      if (item === 'a') lane.delete('b');
      if (item === 'c') lane.set('d', clock.time + 10);
    }, 1);
    const t0 = clock.time;
    for (const item of ['boom', 'a', 'b', 'c']) lane.set(item, t0 + 5);
    clock.advance(5);
    expect(fired).toEqual(['boom', 'a', 'c']);
    expect(errors).toHaveLength(1);
    clock.advance(10);
    expect(fired).toEqual(['boom', 'a', 'c', 'd']);
  });
});

describe('Heartbeat on the wheel', () => {
  function member(name: string, log: string[]): Beating & { answers: boolean } {
    const m = {
      alive: true,
      answers: true,
      ping: () => {
        log.push(`ping ${name}`);
        if (m.answers) m.alive = true; // the pong, at once
      },
      terminate: (why: string) => log.push(`terminate ${name}: ${why}`),
    };
    return m;
  }

  it('pings every interval, drops a silent member within two, and stops when empty', () => {
    const clock = new ManualClock();
    const wheel = new TimerWheel(clock);
    const heartbeat = new Heartbeat(1_000, wheel);
    const log: string[] = [];
    const a = member('a', log);
    const b = member('b', log);
    heartbeat.add(a);
    heartbeat.add(b);
    b.answers = false;
    clock.advance(1_000);
    expect(log).toEqual(['ping a', 'ping b']);
    clock.advance(1_000);
    expect(log).toEqual(['ping a', 'ping b', 'ping a', 'terminate b: heartbeat timeout']);
    expect(heartbeat.size).toBe(1);
    heartbeat.remove(a);
    expect(clock.armed).toHaveLength(0);
  });

  it('after a late sweep the next is a full interval later (time to answer), and a stall gives one sweep, not several', () => {
    const clock = new ManualClock();
    const wheel = new TimerWheel(clock);
    const heartbeat = new Heartbeat(1_000, wheel);
    const log: string[] = [];
    const a = member('a', log);
    const t0 = clock.time;
    heartbeat.add(a);
    clock.advance(1_300, { late: true }); // the first sweep runs 300 ms late
    expect(log).toEqual(['ping a']);
    a.answers = false; // from now on its pongs would come only after 999 ms
    a.alive = false;
    clock.advance(999);
    a.alive = true; // the pong, still in time
    clock.advance(1);
    expect(clock.time).toBe(t0 + 2_300);
    expect(log).toEqual(['ping a', 'ping a']);
    a.alive = true;
    clock.advance(5_000, { late: true }); // a 5 s stall: one sweep, not five
    expect(log).toEqual(['ping a', 'ping a', 'ping a']);
  });

  it(`sweeps ${SWEEP_BATCH} members per turn of the event loop, never all at once; members removed meanwhile are skipped, silent ones dropped`, async () => {
    const clock = new ManualClock();
    const wheel = new TimerWheel(clock);
    const heartbeat = new Heartbeat(1_000, wheel);
    const log: string[] = [];
    const members = Array.from({ length: 3 * SWEEP_BATCH + 10 }, (_, i) => member(`m${i}`, log));
    for (const m of members) heartbeat.add(m);
    const silent = members[2 * SWEEP_BATCH + 1]!;
    silent.alive = false;
    clock.advance(1_000);
    expect(log).toHaveLength(SWEEP_BATCH); // the first batch, in the wheel's turn
    const removed = members[SWEEP_BATCH + 5]!;
    heartbeat.remove(removed);
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    await turn();
    expect(log).toHaveLength(2 * SWEEP_BATCH); // the second batch, which skips the one removed
    for (let i = 0; i < 3; i++) await turn();
    expect(log).not.toContain(`ping m${SWEEP_BATCH + 5}`);
    expect(log).toContain(`terminate m${2 * SWEEP_BATCH + 1}: heartbeat timeout`);
    expect(log.filter((line) => line.startsWith('ping'))).toHaveLength(members.length - 2);
    expect(heartbeat.size).toBe(members.length - 2);
  });
});
