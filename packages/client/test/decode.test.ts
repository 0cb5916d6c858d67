// The SDK's reading of server frames (src/session/decode.ts, no schema library) held to the
// protocol's schemas: the same frame types, every valid server fixture read as the full codec
// reads it, an unknown error code as INTERNAL; and the request encoder's nesting check
// (src/session/requests.ts) against the protocol's.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_NESTING_DEPTH, decodeServerMessage, nestingTooDeep, serverSchemas } from '@switchboard/protocol';
import { checkResult, decodeFrame, SERVER_TYPES } from '../src/session/decode.js';
import { Requests } from '../src/session/requests.js';

const folder = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'protocol', 'test', 'fixtures', 'valid');
const serverFixtures = readdirSync(folder)
  .filter((name) => name.startsWith('server-') && name.endsWith('.json'))
  .map((name) => ({ name, frame: (JSON.parse(readFileSync(join(folder, name), 'utf8')) as { frame: Record<string, unknown> }).frame }));

describe('decodeFrame', () => {
  it('knows the server frame types of the schemas', () => {
    expect([...SERVER_TYPES].sort()).toEqual(Object.keys(serverSchemas).sort());
  });

  it('reads every valid server fixture as the full codec does', () => {
    expect(serverFixtures.length).toBeGreaterThan(5);
    for (const { name, frame } of serverFixtures) {
      const raw = JSON.stringify(frame);
      const full = decodeServerMessage(raw);
      expect(full.ok, name).toBe(true);
      if (full.ok) expect(decodeFrame(raw), name).toMatchObject(full.value as object);
    }
  });

  it('ignores what it cannot dispatch; an unknown error code is INTERNAL as in the full codec', () => {
    for (const raw of ['{', '[1]', 'null', '"x"', '{"type":"nope"}', '{"type":"ack","result":{}}', '{"type":"error","id":1,"code":3,"message":"m"}']) {
      expect(decodeFrame(raw), raw).toBeNull();
    }
    expect(decodeFrame(JSON.stringify({ type: 'rtc', call: 'c', sender: 'u', sender_cid: 'cid:x', sender_name: null }))).toBeNull(); // no signal
    expect(decodeFrame(JSON.stringify({ type: 'rtc', call: 'c', signal: { kind: 1 } }))).toBeNull();
    const future = JSON.stringify({ type: 'error', id: 3, code: 'NEW_CODE', message: 'later' });
    const full = decodeServerMessage(future);
    expect(full.ok && decodeFrame(future)).toEqual(full.ok && full.value);
  });

  it('an ack result must be an object', () => {
    expect(checkResult({ delivered: 1 }, 'post')).toEqual({ delivered: 1 });
    expect(() => checkResult(null, 'post')).toThrow(expect.objectContaining({ code: 'INTERNAL' }) as Error);
    expect(() => checkResult([1], 'join')).toThrow(/Unexpected answer to join/);
  });
});

describe('request encoding', () => {
  const nested = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);

  it('refuses frames nested deeper than the server takes, as the protocol counts them', async () => {
    const requests = new Requests(1000, () => true);
    const cases: [string, unknown][] = [
      ['at the limit', JSON.parse(nested(MAX_NESTING_DEPTH - 1)) as unknown],
      ['over it', JSON.parse(nested(MAX_NESTING_DEPTH)) as unknown],
      ['brackets in strings', '['.repeat(200)],
      ['escaped quotes', { s: '\\"[[[[', deep: JSON.parse(nested(10)) as unknown }],
    ];
    for (const [label, message] of cases) {
      const text = JSON.stringify({ id: 1, type: 'post', to: 'room', message });
      const expected = nestingTooDeep(text).tooDeep;
      let outcome = 'queued';
      requests.create({ type: 'post', to: 'room', message }).catch((error: { code: string }) => (outcome = error.code));
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (expected) expect(outcome, label).toBe('INVALID_PARAMETER');
      else expect(outcome, label).not.toBe('INVALID_PARAMETER');
    }
    requests.failAll(() => new Error('done') as never);
  });

  it('encodes the frame once with its id, and checks the size of the frame that goes out', async () => {
    const requests = new Requests(1000, () => true);
    const wire: string[] = [];
    const accepted = requests.create({ type: 'post', to: 'room', message: { a: 'é' } }, { maxBytes: 100 });
    requests.flush((text) => wire.push(text) > 0);
    expect(JSON.parse(wire[0]!)).toEqual({ id: 1, type: 'post', to: 'room', message: { a: 'é' } });
    requests.handleAck(1, { delivered: 1 });
    await expect(accepted).resolves.toEqual({ delivered: 1 });
    const big = requests.create({ type: 'post', to: 'room', message: 'é'.repeat(40) }, { maxBytes: 100 }); // 40 characters, 80 bytes
    await expect(big).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/^The message is 12\d bytes as a frame/) as string });
  });
});
