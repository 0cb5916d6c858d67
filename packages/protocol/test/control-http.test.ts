// The control channel's messages and the HTTP answers the browser SDK reads: the valibot-free
// checks (src/control.ts, src/http.ts) accept exactly what the schemas accept, on a corpus of
// valid and invalid messages (the signal fixtures among them) and on random mutations of valid ones.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import {
  controlMessageSchema,
  controlSchemas,
  httpSchemas,
  isGuestAnswer,
  isSessionAnswer,
  parseControlMessage,
  parseGuestRequest,
  sdkReadSchemas,
} from '@switchboard/protocol';
import { cid, jsonValue, rtcSignal, userId } from './arbitraries.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
/** The signal of every rtc client fixture, valid and invalid (oversized SDP, bad m-line index, …). */
const fixtureSignals = ['valid', 'invalid'].flatMap((dir) =>
  readdirSync(join(fixtures, dir))
    .filter((name) => name.startsWith('client-rtc-'))
    .map((name) => JSON.parse(readFileSync(join(fixtures, dir, name), 'utf8')) as { frame: unknown })
    .map(({ frame }) => {
      try {
        return (typeof frame === 'string' ? JSON.parse(frame) : frame) as { signal?: unknown };
      } catch {
        return {};
      }
    })
    .filter((frame) => frame.signal !== undefined)
    .map((frame) => frame.signal),
);

const controlCorpus: unknown[] = [
  { t: 'hangup', reason: 'hangup' },
  { t: 'hangup', reason: '' },
  { t: 'hangup' },
  { t: 'hangup', reason: 1 },
  { t: 'ping', n: 0 },
  { t: 'pong', n: 1.5 },
  { t: 'ping', n: '1' },
  { t: 'pong' },
  { t: 'cid', cid: 'cid:abc' },
  { t: 'cid', cid: 'abc' },
  { t: 'cid', cid: null },
  { t: 'caps', iceRestart: false },
  { t: 'caps', iceRestart: 'no' },
  { t: 'caps' },
  { t: 'signal', signal: { kind: 'description', description: { type: 'offer', sdp: 'v=0' }, pc: 1 } },
  { t: 'signal', signal: { kind: 'description', description: { type: 'rollback' } } },
  { t: 'signal', signal: { kind: 'description', description: { type: 'offer', sdp: null } } },
  { t: 'signal', signal: { kind: 'description', description: { type: 'nope' } } },
  { t: 'signal', signal: { kind: 'description', description: [] } },
  { t: 'signal', signal: { kind: 'candidate', candidate: null, pc: 65535 } },
  { t: 'signal', signal: { kind: 'candidate', candidate: null, pc: 65536 } },
  { t: 'signal', signal: { kind: 'candidate', candidate: null, pc: 1.5 } },
  { t: 'signal', signal: { kind: 'candidate', candidate: { candidate: '', sdpMid: null, sdpMLineIndex: null } } },
  { t: 'signal', signal: { kind: 'candidate', candidate: { candidate: 'x', sdpMLineIndex: -1 } } },
  { t: 'signal', signal: { kind: 'candidate', candidate: { candidate: 'x', usernameFragment: 'u'.repeat(257) } } },
  { t: 'signal', signal: { kind: 'candidate' } },
  { t: 'signal', signal: { kind: 'invite' } },
  { t: 'signal', signal: { kind: 'hangup' } },
  { t: 'signal', signal: null },
  { t: 'nope' },
  { t: 'constructor' },
  {},
  [],
  null,
  1,
  'hangup',
  ...fixtureSignals.map((signal) => ({ t: 'signal', signal })),
];

/** A copy of `value` with one nested field (any depth) replaced by `replacement`, or removed when it is undefined. */
function mutate(value: unknown, pick: number, replacement: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(value)) as unknown;
  const slots: Array<[Record<string, unknown>, string]> = [];
  const visit = (node: unknown) => {
    if (typeof node !== 'object' || node === null) return;
    for (const key of Object.keys(node)) {
      slots.push([node as Record<string, unknown>, key]);
      visit((node as Record<string, unknown>)[key]);
    }
  };
  visit(copy);
  const slot = slots[pick % Math.max(1, slots.length)];
  if (!slot) return copy;
  if (replacement === undefined) delete slot[0][slot[1]];
  else slot[0][slot[1]] = replacement;
  return copy;
}

const agrees = (schema: v.GenericSchema, light: (value: unknown) => boolean) => (value: unknown) =>
  expect(light(value), JSON.stringify(value)?.slice(0, 300)).toBe(v.is(schema, value));
const lightControl = (value: unknown) => parseControlMessage(JSON.stringify(value)) !== null;
const validControl = fc
  .oneof(
    fc.record({ t: fc.constant('hangup'), reason: fc.string() }),
    fc.record({ t: fc.constantFrom('ping', 'pong'), n: fc.double({ noNaN: true }) }),
    fc.record({ t: fc.constant('cid'), cid }),
    fc.record({ t: fc.constant('caps'), iceRestart: fc.boolean() }),
    rtcSignal.filter((s) => s.kind === 'description' || s.kind === 'candidate').map((signal) => ({ t: 'signal', signal })),
  )
  .map((m) => JSON.parse(JSON.stringify(m)) as unknown);
const replacement = fc.option(fc.oneof(jsonValue, fc.constantFrom(-1, 1.5, 65536, 1025, '', 'cid:', 'x'.repeat(1025))), { nil: undefined });

describe('control channel messages', () => {
  it("the light parser accepts exactly what the schema accepts (corpus, the rtc fixtures' signals)", () => {
    expect(controlCorpus.length).toBeGreaterThan(40);
    for (const message of controlCorpus) agrees(controlMessageSchema, lightControl)(message);
    expect(controlCorpus.filter(lightControl).length).toBeGreaterThan(10);
    expect(Object.keys(controlSchemas).sort()).toEqual(['caps', 'cid', 'hangup', 'ping', 'pong', 'signal']);
  });

  it('and on random valid messages with one field changed or removed', () => {
    fc.assert(
      fc.property(validControl, fc.nat(), replacement, (message, pick, value) => {
        agrees(controlMessageSchema, lightControl)(message);
        agrees(controlMessageSchema, lightControl)(mutate(message, pick, value));
      }),
      { numRuns: 1000 },
    );
  });

  it('ignores what is not a JSON text of a known message, and oversized text unread', () => {
    for (const data of ['', '{', 'null', '[]', 42, null, new ArrayBuffer(4)]) expect(parseControlMessage(data)).toBeNull();
    const big = JSON.stringify({ t: 'hangup', reason: 'x'.repeat(128 * 1024) });
    expect(parseControlMessage(big)).toBeNull();
    expect(parseControlMessage('{"t":"hangup","reason":"hangup","extra":1}')).toMatchObject({ t: 'hangup', reason: 'hangup' });
  });
});

describe('HTTP bodies', () => {
  const user = fc.record({ user_id: userId, name: fc.option(fc.string({ maxLength: 64 })) });
  const guest = fc.record({ token: fc.string({ minLength: 1 }), user, expiresAt: fc.integer() });
  const session = fc.record({ user, expiresAt: fc.integer(), connections: fc.record({ open: fc.nat(), max: fc.nat() }) });

  const checks = [
    [sdkReadSchemas.guestResponse, isGuestAnswer],
    [sdkReadSchemas.sessionResponse, isSessionAnswer],
  ] as const;

  it('the light checks of /v1/guest and /v1/session answers accept exactly what the SDK-read schemas accept', () => {
    const corpus: unknown[] = [
      { token: 'j.w.t', user: { user_id: 'guest-1', name: null }, expiresAt: 1 },
      { token: '', user: { user_id: 'guest-1', name: null }, expiresAt: 1 },
      { token: 'j.w.t', user: { user_id: '', name: null }, expiresAt: 1 },
      { token: 'j.w.t', user: { user_id: 'g', name: 'n'.repeat(65) }, expiresAt: 1 },
      { token: 'j.w.t', user: { user_id: 'g' }, expiresAt: 1 },
      { token: 'j.w.t' },
      { user: { user_id: 'a', name: 'A' }, expiresAt: 2, connections: { open: 1, max: 20 } },
      { user: { user_id: 'a', name: 'A' }, expiresAt: 2, connections: { open: '1', max: 20 } },
      { user: { user_id: 'a', name: 'A' }, expiresAt: 2 },
      null,
      [],
      'token',
    ];
    for (const body of corpus) for (const [schema, light] of checks) agrees(schema, light)(body);
    fc.assert(
      fc.property(fc.oneof(guest, session), fc.nat(), replacement, (body, pick, value) => {
        for (const b of [body, mutate(body, pick, value)]) for (const [schema, light] of checks) agrees(schema, light)(b);
      }),
      { numRuns: 1000 },
    );
  });

  it("every valid full answer passes the SDK's check", () => {
    fc.assert(
      fc.property(guest, session, fc.nat(), replacement, (g, s, pick, value) => {
        expect(v.is(httpSchemas.guestResponse, g) && isGuestAnswer(g)).toBe(true);
        expect(v.is(httpSchemas.sessionResponse, s) && isSessionAnswer(s)).toBe(true);
        for (const [full, light] of [
          [httpSchemas.guestResponse, isGuestAnswer],
          [httpSchemas.sessionResponse, isSessionAnswer],
        ] as const) {
          const b = mutate(full === httpSchemas.guestResponse ? g : s, pick, value);
          if (v.is(full, b)) expect(light(b)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("a guest request: the name trimmed, the server's error texts", () => {
    expect(parseGuestRequest({ name: '  Ada ' })).toEqual({ ok: true, value: { name: 'Ada' } });
    expect(parseGuestRequest({})).toEqual({ ok: true, value: {} });
    expect(parseGuestRequest([1])).toEqual({ ok: true, value: {} });
    expect(parseGuestRequest({ name: null })).toEqual({ ok: true, value: { name: null } });
    expect(parseGuestRequest({ name: 5 })).toEqual({ ok: false, error: '"name" must be a string.' });
    expect(parseGuestRequest({ name: ` ${'n'.repeat(64)} ` }).ok).toBe(true);
    expect(parseGuestRequest({ name: 'n'.repeat(65) })).toEqual({ ok: false, error: '"name" must be at most 64 characters.' });
  });
});
