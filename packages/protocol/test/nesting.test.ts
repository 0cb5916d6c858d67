import { describe, expect, it } from 'vitest';
import { MAX_NESTING_DEPTH, decodeClientMessage, decodeServerMessage, nestingTooDeep } from '../src/index.js';

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const post = (message: string, id = 3): string => `{"type":"post","id":${id},"to":"room","message":${message}}`;

describe('nesting depth', () => {
  it(`accepts ${MAX_NESTING_DEPTH} levels (the frame itself is level 1) and refuses one more`, () => {
    expect(decodeClientMessage(post(nested(MAX_NESTING_DEPTH - 1))).ok).toBe(true);
    expect(decodeClientMessage(post(nested(MAX_NESTING_DEPTH)))).toEqual({
      ok: false,
      error: { code: 'INVALID_PARAMETER', message: `Frame is nested deeper than ${MAX_NESTING_DEPTH} levels of objects and arrays.`, id: 3, type: null },
    });
  });

  it('refuses 100,000 levels without recursion, and server frames too', () => {
    const result = decodeClientMessage(post(nested(100_000), 9));
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMETER', id: 9 } });
    expect(decodeServerMessage(`{"type":"message","message":${nested(100)}}`)).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMETER' } });
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    const text = `{"type":"post","id":1,"to":"r","message":"${'[{'.repeat(200)}\\"${'[{'.repeat(200)}\\\\"}`;
    expect(nestingTooDeep(text)).toEqual({ tooDeep: false, id: 1 });
    expect(decodeClientMessage(text).ok).toBe(true);
  });

  it('reads the top-level id only', () => {
    expect(nestingTooDeep(`{"x":{"id":5},"id" : 12 ,"m":${nested(70)}}`)).toEqual({ tooDeep: true, id: 12 });
    expect(nestingTooDeep(`{"x":{"id":5,"m":${nested(70)}}}`)).toEqual({ tooDeep: true, id: null });
    expect(nestingTooDeep(`{"id":-1,"m":${nested(70)}}`)).toEqual({ tooDeep: true, id: null });
  });
});
