/** tick-flush.ts: the sockets corked during a tick are uncorked at its end, by one nextTick for all. */
import { describe, expect, it } from 'vitest';
import { flushAtTickEnd } from '../src/connection/tick-flush.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('flushAtTickEnd', () => {
  it('flushes every connection corked in a tick together, in order, at its end', async () => {
    const flushed: Array<number | string> = [];
    const connections = [0, 1, 2, 3].map((n) => ({ flushWrites: () => void flushed.push(n) }));
    flushAtTickEnd(connections[0]!);
    // A callback queued between two corks: one nextTick for the whole batch runs before it.
    process.nextTick(() => flushed.push('queued after the first cork'));
    for (const connection of connections.slice(1)) flushAtTickEnd(connection);
    expect(flushed).toEqual([]); // not before the tick ends
    await tick();
    expect(flushed).toEqual([0, 1, 2, 3, 'queued after the first cork']);
    flushAtTickEnd(connections[2]!); // the next tick gets its own flush
    await tick();
    expect(flushed).toEqual([0, 1, 2, 3, 'queued after the first cork', 2]);
  });

  it('a flush that throws: the other sockets of its tick are still flushed, and later ticks too', async () => {
    const flushed: string[] = [];
    const errors: unknown[] = [];
    const onError = (err: unknown) => void errors.push(err);
    process.on('uncaughtException', onError);
    try {
      flushAtTickEnd({ flushWrites: () => void flushed.push('before') });
      flushAtTickEnd({
        flushWrites: () => {
          throw new Error('socket gone');
        },
      });
      flushAtTickEnd({ flushWrites: () => void flushed.push('after') });
      await tick();
      flushAtTickEnd({ flushWrites: () => void flushed.push('later') });
      await tick();
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(errors).toHaveLength(1);
    expect(flushed).toEqual(['before', 'after', 'later']);
  });
});
