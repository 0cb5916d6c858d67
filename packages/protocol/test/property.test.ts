// Property tests of the codec: decoding never throws, every valid message survives
// encode → decode unchanged, and whatever decodes re-encodes to the same value.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientSchemas, decodeClientMessage, decodeServerMessage, encode, serverSchemas, type ClientMessage, type ServerMessage } from '@switchboard/protocol';
import { anyClientMessage, anyServerMessage, clientMessages, jsonValue, serverMessages } from './arbitraries.js';

const runs = { numRuns: 500 };
const decoders = { client: decodeClientMessage, server: decodeServerMessage } as const;
const types = [...Object.keys(clientSchemas), ...Object.keys(serverSchemas), 'constructor', '__proto__', 'toString', ''];

/** Any JSON object that has a frame `type` and otherwise random fields (reaches schema validation). */
const typedObject = fc
  .tuple(fc.constantFrom(...types), fc.dictionary(fc.string({ maxLength: 12 }), jsonValue, { maxKeys: 6 }), fc.option(fc.anything()))
  .map(([type, fields, id]) => ({ ...fields, type, ...(id === null ? {} : { id }) }));

/** A valid message with one field replaced by an arbitrary JSON value (or removed). */
const mutated = fc.tuple(fc.oneof(anyClientMessage, anyServerMessage), fc.nat(), fc.option(jsonValue)).map(([message, pick, value]) => {
  const copy: Record<string, unknown> = { ...message };
  const keys = Object.keys(copy);
  const key = keys[pick % keys.length] ?? 'type';
  if (value === null) delete copy[key];
  else copy[key] = value;
  return copy;
});

/** JSON text with numbers JSON.parse turns into ±Infinity or -0, spliced into otherwise valid frames. */
const awkwardNumbers = fc
  .tuple(fc.oneof(anyClientMessage, anyServerMessage), fc.constantFrom('1e400', '-1e400', '-0', '1e-400', '0.0'))
  .map(([message, number]) => JSON.stringify(message).replace(/(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)(?=[,}\]])/i, number));

function neverThrows(raw: string): void {
  for (const decode of Object.values(decoders)) {
    const result = decode(raw);
    if (!result.ok) {
      expect(['MALFORMED_FRAME', 'UNKNOWN_TYPE', 'INVALID_PARAMETER']).toContain(result.error.code);
      expect(typeof result.error.message).toBe('string');
    }
  }
}

/**
 * Whatever decodes must re-encode to a frame that decodes again, to the same JSON. (-0 and 0
 * count as the same: JSON has one zero.) A decoder that accepts what it cannot re-encode (e.g.
 * 1e400, which JSON.parse makes Infinity and JSON.stringify makes null) fails here.
 */
function canonical(raw: string): void {
  for (const decode of Object.values(decoders)) {
    const first = decode(raw);
    if (!first.ok) continue;
    const text = encode(first.value as ClientMessage | ServerMessage);
    const again = decode(text);
    if (!again.ok) throw new Error(`${raw} decoded, but its re-encoding ${text} does not: ${again.error.message}`);
    expect(encode(again.value as ClientMessage | ServerMessage)).toBe(text);
  }
}

describe('decode never throws', () => {
  it('on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), neverThrows), runs);
  });
  it('on arbitrary JSON values, stringified', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => neverThrows(JSON.stringify(value))),
      runs,
    );
  });
  it('on objects with a frame type and random fields', () => {
    fc.assert(
      fc.property(typedObject, (value) => neverThrows(JSON.stringify(value))),
      runs,
    );
  });
  it('on valid messages with one field broken', () => {
    fc.assert(
      fc.property(mutated, (value) => neverThrows(JSON.stringify(value))),
      runs,
    );
  });
  it('on deeply nested and huge input', () => {
    neverThrows('['.repeat(100_000));
    neverThrows(`{"type":"post","id":1,"to":"x","message":${'['.repeat(5000)}${']'.repeat(5000)}}`);
    neverThrows(JSON.stringify({ type: 'post', id: 1, to: 'x', message: 'x'.repeat(1_000_000) }));
  });
});

describe('round trip: encode → decode returns the same value', () => {
  for (const [type, arbitrary] of Object.entries(clientMessages)) {
    it(`client ${type}`, () => {
      fc.assert(
        fc.property(arbitrary, (message) => {
          expect(decodeClientMessage(encode(message))).toStrictEqual({ ok: true, value: message });
        }),
        runs,
      );
    });
  }
  for (const [type, arbitrary] of Object.entries(serverMessages)) {
    it(`server ${type}`, () => {
      fc.assert(
        fc.property(arbitrary, (message) => {
          expect(decodeServerMessage(encode(message))).toStrictEqual({ ok: true, value: message });
        }),
        runs,
      );
    });
  }
  it('arbitraries exist for every message type', () => {
    expect(Object.keys(clientMessages).sort()).toEqual(Object.keys(clientSchemas).sort());
    expect(Object.keys(serverMessages).sort()).toEqual(Object.keys(serverSchemas).sort());
  });
});

describe('decoding is canonical', () => {
  it('for broken valid messages', () => {
    fc.assert(
      fc.property(mutated, (value) => canonical(JSON.stringify(value))),
      runs,
    );
  });
  it('for frames with numbers JSON cannot re-encode (1e400 → Infinity)', () => {
    fc.assert(fc.property(awkwardNumbers, canonical), runs);
  });
});

describe('error replies can be correlated', () => {
  it('carry the id of any frame object with a valid request id', () => {
    fc.assert(
      fc.property(typedObject, fc.maxSafeNat(), (value, id) => {
        const raw = JSON.stringify({ ...value, id });
        for (const decode of Object.values(decoders)) {
          const result = decode(raw);
          if (!result.ok) expect(result.error.id).toBe(id);
        }
      }),
      runs,
    );
  });
});
