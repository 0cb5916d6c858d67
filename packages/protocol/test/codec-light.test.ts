// The browser build's codec (src/codec-light.ts) against the full one: the same frame types
// and result shapes, every valid server fixture decodes to the same type (unknown fields kept),
// an unknown error code becomes INTERNAL as in the full codec.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeServerMessage as full, resultSchemas, serverSchemas } from '@switchboard/protocol';
import { decodeServerMessage as light, LIGHT_RESULT_TYPES, LIGHT_SERVER_TYPES, parseResult } from '../src/codec-light.js';

const folder = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'valid');
const serverFixtures = readdirSync(folder)
  .filter((name) => name.startsWith('server-') && name.endsWith('.json'))
  .map((name) => JSON.parse(readFileSync(join(folder, name), 'utf8')) as { frame: Record<string, unknown> });

describe('light codec (browser build)', () => {
  it('knows the same server frame types and result shapes as the schemas', () => {
    expect([...LIGHT_SERVER_TYPES].sort()).toEqual(Object.keys(serverSchemas).sort());
    expect([...LIGHT_RESULT_TYPES].sort()).toEqual(Object.keys(resultSchemas).sort());
  });

  it('decodes every valid server fixture as the full codec does, type for type', () => {
    expect(serverFixtures.length).toBeGreaterThan(5);
    for (const { frame } of serverFixtures) {
      const raw = JSON.stringify(frame);
      const [a, b] = [full(raw), light(raw)];
      expect(a.ok && b.ok).toBe(true);
      if (a.ok && b.ok) expect(b.value).toMatchObject(a.value);
    }
  });

  it('refuses what it cannot dispatch; an unknown error code is INTERNAL; results must be objects', () => {
    expect(light('{')).toMatchObject({ ok: false, error: { code: 'MALFORMED_FRAME' } });
    expect(light('[1]')).toMatchObject({ ok: false, error: { code: 'MALFORMED_FRAME' } });
    expect(light('{"type":"nope"}')).toMatchObject({ ok: false, error: { code: 'UNKNOWN_TYPE' } });
    expect(light('{"type":"ack","result":{}}')).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMETER' } });
    const future = JSON.stringify({ type: 'error', id: 3, code: 'NEW_CODE', message: 'later' });
    expect(light(future)).toEqual(full(future));
    expect(parseResult('post', { delivered: 1 })).toEqual({ ok: true, value: { delivered: 1 } });
    expect(parseResult('post', null).ok).toBe(false);
  });
});
