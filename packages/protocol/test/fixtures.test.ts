// Golden fixtures: the conformance suite of the wire protocol. Every JSON file under
// fixtures/valid must decode (on its side) to its `frame` (or `decoded`); every file under
// fixtures/invalid must be rejected with the recorded error code, request id and path.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  clientSchemas,
  decodeClientMessage,
  decodeServerMessage,
  encode,
  isErrorCode,
  parseResult,
  resultSchemas,
  serverSchemas,
  type ClientMessage,
  type ServerMessage,
} from '@switchboard/protocol';

const here = dirname(fileURLToPath(import.meta.url));
type Side = 'client' | 'server';

interface ValidFixture {
  side: Side;
  description: string;
  frame: Record<string, unknown>;
  /** What decoding yields when it differs from `frame` (unknown fields dropped). */
  decoded?: Record<string, unknown>;
  /** For acks: the request type whose result schema the `result` must satisfy. */
  resultOf?: keyof typeof resultSchemas;
}

interface InvalidFixture {
  side: Side;
  description: string;
  /** The raw text frame, exactly as it would arrive on the socket. */
  frame: string;
  code: 'MALFORMED_FRAME' | 'UNKNOWN_TYPE' | 'INVALID_PARAMETER';
  /** The request id the error reply must carry (null: uncorrelated). */
  id?: number | null;
  /** The field the error message must name (dotted path). */
  path?: string;
}

function load<T>(dir: 'valid' | 'invalid'): Array<[string, T]> {
  const folder = join(here, 'fixtures', dir);
  return readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => [name, JSON.parse(readFileSync(join(folder, name), 'utf8')) as T]);
}

const decode = (side: Side, raw: string) => (side === 'client' ? decodeClientMessage(raw) : decodeServerMessage(raw));
const validFixtures = load<ValidFixture>('valid');
const invalidFixtures = load<InvalidFixture>('invalid');

describe('valid fixtures', () => {
  it.each(validFixtures)('%s', (name, fixture) => {
    expect(name.startsWith(`${fixture.side}-`), 'file name starts with its side').toBe(true);
    const result = decode(fixture.side, JSON.stringify(fixture.frame));
    if (!result.ok) throw new Error(`${name} did not decode: ${result.error.code} ${result.error.message}`);
    expect(result.value).toStrictEqual(fixture.decoded ?? fixture.frame);
    // Valid on one side means unknown on the other unless the type exists on both (rtc, ping/pong do not overlap).
    const reencoded = encode(result.value as ClientMessage | ServerMessage);
    const again = decode(fixture.side, reencoded);
    expect(again).toStrictEqual(result);
    if (fixture.resultOf) {
      const parsed = parseResult(fixture.resultOf, (result.value as { result: unknown }).result);
      expect(parsed).toStrictEqual({ ok: true, value: (fixture.frame as { result: unknown }).result });
    }
  });

  it('cover every client and server frame type', () => {
    const covered = (side: Side) => new Set(validFixtures.filter(([, f]) => f.side === side).map(([, f]) => f.frame['type']));
    expect([...covered('client')].sort()).toEqual(Object.keys(clientSchemas).sort());
    expect([...covered('server')].sort()).toEqual(Object.keys(serverSchemas).sort());
  });

  it('cover every rtc signal kind in both directions and every ack result shape', () => {
    const kinds = (side: Side) =>
      new Set(validFixtures.filter(([, f]) => f.side === side && f.frame['type'] === 'rtc').map(([, f]) => (f.frame['signal'] as { kind: string }).kind));
    expect([...kinds('client')].sort()).toEqual(['accept', 'candidate', 'description', 'hangup', 'invite', 'reject']);
    expect(kinds('server').size).toBeGreaterThanOrEqual(3);
    const results = new Set(validFixtures.map(([, f]) => f.resultOf).filter(Boolean));
    expect([...results].sort()).toEqual(Object.keys(resultSchemas).sort());
  });
});

describe('invalid fixtures', () => {
  it.each(invalidFixtures)('%s', (name, fixture) => {
    expect(name.startsWith(`${fixture.side}-`), 'file name starts with its side').toBe(true);
    expect(isErrorCode(fixture.code)).toBe(true);
    const result = decode(fixture.side, fixture.frame);
    if (result.ok) throw new Error(`${name} decoded but must fail with ${fixture.code}: ${JSON.stringify(result.value).slice(0, 200)}`);
    expect(result.error.code).toBe(fixture.code);
    if (fixture.id !== undefined) expect(result.error.id).toBe(fixture.id);
    if (fixture.path !== undefined) expect(result.error.message.startsWith(`"${fixture.path}"`), result.error.message).toBe(true);
    expect(result.error.message.length).toBeLessThanOrEqual(1024);
  });

  it('cover the important failure classes', () => {
    const codes = new Set(invalidFixtures.map(([, f]) => `${f.side}:${f.code}`));
    for (const side of ['client', 'server'] as const) {
      for (const code of ['MALFORMED_FRAME', 'UNKNOWN_TYPE', 'INVALID_PARAMETER']) {
        if (side === 'server' && code === 'MALFORMED_FRAME') continue;
        expect(codes.has(`${side}:${code}`), `${side}:${code}`).toBe(true);
      }
    }
  });
});
