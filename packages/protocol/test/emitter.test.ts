import { describe, expect, it, vi } from 'vitest';
import { Emitter } from '@switchboard/protocol';

type Events = { a: number; b: { text: string }; c: undefined };

describe('Emitter', () => {
  it('delivers each event to the listeners of its type, in subscription order', () => {
    const emitter = new Emitter<Events>();
    const seen: string[] = [];
    emitter.on('a', (n) => seen.push(`first ${n}`));
    emitter.on('a', (n) => seen.push(`second ${n}`));
    emitter.on('b', (e) => seen.push(`b ${e.text}`));
    emitter.emit('a', 1);
    emitter.emit('b', { text: 'x' });
    expect(seen).toEqual(['first 1', 'second 1', 'b x']);
  });

  it('emitting with no listeners is a no-op', () => {
    const emitter = new Emitter<Events>();
    expect(() => emitter.emit('c', undefined)).not.toThrow();
  });

  it('on() returns an unsubscribe function; off() removes a listener', () => {
    const emitter = new Emitter<Events>();
    const one = vi.fn();
    const two = vi.fn();
    const offOne = emitter.on('a', one);
    emitter.on('a', two);
    offOne();
    emitter.emit('a', 1);
    emitter.off('a', two);
    emitter.emit('a', 2);
    expect(one).not.toHaveBeenCalled();
    expect(two).toHaveBeenCalledTimes(1);
    expect(() => offOne()).not.toThrow();
  });

  it('the same listener added twice is called once (set semantics)', () => {
    const emitter = new Emitter<Events>();
    const listener = vi.fn();
    emitter.on('a', listener);
    emitter.on('a', listener);
    emitter.emit('a', 1);
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('once() fires a single time, and its unsubscribe works before it fires', () => {
    const emitter = new Emitter<Events>();
    const fired = vi.fn();
    emitter.once('a', fired);
    emitter.emit('a', 1);
    emitter.emit('a', 2);
    expect(fired).toHaveBeenCalledExactlyOnceWith(1);
    const never = vi.fn();
    const off = emitter.once('a', never);
    off();
    emitter.emit('a', 3);
    expect(never).not.toHaveBeenCalled();
  });

  it('a listener that unsubscribes others during emit does not make the current emit skip them', () => {
    const emitter = new Emitter<Events>();
    const seen: string[] = [];
    let offSecond = () => {};
    emitter.on('a', () => {
      seen.push('first');
      offSecond();
    });
    offSecond = emitter.on('a', () => seen.push('second'));
    emitter.emit('a', 1);
    emitter.emit('a', 2);
    expect(seen).toEqual(['first', 'second', 'first']);
  });

  it('a listener added during emit is called from the next emit on', () => {
    const emitter = new Emitter<Events>();
    const late = vi.fn();
    emitter.once('a', () => emitter.on('a', late));
    emitter.emit('a', 1);
    expect(late).not.toHaveBeenCalled();
    emitter.emit('a', 2);
    expect(late).toHaveBeenCalledExactlyOnceWith(2);
  });

  it('removeAll() drops every listener of every type', () => {
    const emitter = new Emitter<Events>();
    const a = vi.fn();
    const b = vi.fn();
    emitter.on('a', a);
    emitter.on('b', b);
    emitter.removeAll();
    emitter.emit('a', 1);
    emitter.emit('b', { text: '' });
    expect(a).not.toHaveBeenCalled();
    expect(b).not.toHaveBeenCalled();
  });

  it('a throwing listener propagates to the emitter (and stops that emit)', () => {
    const emitter = new Emitter<Events>();
    const after = vi.fn();
    emitter.on('a', () => {
      throw new Error('boom');
    });
    emitter.on('a', after);
    expect(() => emitter.emit('a', 1)).toThrow('boom');
    expect(after).not.toHaveBeenCalled();
  });

  it('instances do not share listeners', () => {
    const one = new Emitter<Events>();
    const two = new Emitter<Events>();
    const listener = vi.fn();
    one.on('a', listener);
    two.emit('a', 1);
    expect(listener).not.toHaveBeenCalled();
  });
});
