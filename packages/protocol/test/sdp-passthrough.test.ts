// The SDP of an `rtc` description is parsed apart and re-encoded as the text it came as
// (src/sdp-passthrough.ts): decoding must give exactly what a parse of the whole frame gives,
// for any SDP and any hostile frame, and encoding must splice the text back verbatim.
import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { clientSchemas, decodeClientMessage, encode, SDP_MAX, type ClientMessageOf, type ServerMessage } from '@switchboard/protocol';

const SDP = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n';

const frame = (sdp: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'rtc', id: 3, to: 'cid:bob', call: 'c1', signal: { kind: 'description', description: { type: 'offer', sdp }, pc: 1 }, ...extra });

/** What decoding the whole frame gives: JSON.parse and the schema, no cut. */
function reference(raw: string): { ok: true; value: unknown } | { ok: false } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false };
  }
  const result = v.safeParse(clientSchemas.rtc, parsed);
  return result.success ? { ok: true, value: result.output } : { ok: false };
}

const decodeRtc = (raw: string): ClientMessageOf<'rtc'> => {
  const decoded = decodeClientMessage(raw);
  if (!decoded.ok) throw new Error(`${raw.slice(0, 80)}: ${decoded.error.message}`);
  return decoded.value as ClientMessageOf<'rtc'>;
};

/** The frame the server relays, built as rtc.ts builds it. */
const relayed = (msg: ClientMessageOf<'rtc'>): ServerMessage => ({
  type: 'rtc',
  call: msg.call,
  sender: 'ada',
  sender_cid: 'cid:ada',
  sender_name: 'Ada',
  signal: msg.signal,
});

describe('SDP passthrough', () => {
  it('decodes a description frame to what parsing the whole frame gives', () => {
    const raw = frame(SDP);
    expect(decodeRtc(raw)).toEqual((reference(raw) as { value: unknown }).value);
  });

  it('splices the SDP into the relayed frame as it arrived, not escaped again', () => {
    // Escapes JSON.stringify would never write: a passthrough keeps them, a re-encoding would not.
    const unusual = String.raw`v=0\u000d\u000a\/path \u0041`;
    const raw = frame(SDP).replace(JSON.stringify(SDP).slice(1, -1), unusual);
    const msg = decodeRtc(raw);
    expect((msg.signal as { description: { sdp: string } }).description.sdp).toBe('v=0\r\n/path A');
    const text = encode(relayed(msg));
    expect(text).toContain(`"sdp":"${unusual}"`);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(relayed(msg))));
  });

  it('encodes a description nobody decoded as usual', () => {
    const msg = JSON.parse(frame(SDP)) as ClientMessageOf<'rtc'>;
    expect(encode(relayed(msg))).toBe(JSON.stringify(relayed(msg)));
  });

  it('is not fooled by a second "sdp", an escaped key, a key ending in sdp, or the marker in a name', () => {
    const hostile = [
      // Duplicate keys: JSON.parse keeps the last one.
      frame(SDP).replace('"sdp":', '"sdp":"first","sdp":'),
      // The literal key elsewhere (an unknown field) and the real one escaped.
      frame('real')
        .replace('"sdp":"real"', String.raw`"s\u0064p":"real"`)
        .replace('"pc":1', '"pc":1,"extra":{"sdp":"decoy"}'),
      // A key whose text ends in \"sdp.
      frame('real', { 'x"sdp': 'decoy' }),
      // Backslashes before the closing quote.
      frame('ends in a backslash \\'),
      frame('ends in quote \\"'),
    ];
    for (const raw of hostile) {
      const want = reference(raw);
      expect(want.ok, raw).toBe(true);
      const msg = decodeRtc(raw);
      expect(msg).toEqual((want as { value: unknown }).value);
      expect(JSON.parse(encode(relayed(msg)))).toEqual(JSON.parse(JSON.stringify(relayed(msg))));
    }
  });

  it('leaves an SDP inside a post (an app signaling by hand) as a whole parse gives it', () => {
    const message = { signal: { description: { type: 'offer', sdp: SDP } }, note: 'by hand' };
    const raw = JSON.stringify({ type: 'post', id: 4, to: 'room', message });
    expect(decodeClientMessage(raw)).toEqual({ ok: true, value: { type: 'post', id: 4, to: 'room', message } });
    const cutAtTop = JSON.stringify({ type: 'post', id: 5, to: 'room', message: 1, signal: { description: { sdp: SDP } } });
    expect(decodeClientMessage(cutAtTop)).toEqual({ ok: true, value: { type: 'post', id: 5, to: 'room', message: 1 } });
  });

  it('refuses what a whole parse refuses: bad string content, an SDP over the limit, a non-string SDP', () => {
    const control = frame(SDP).replace('s=-', 's=\u0001-'); // a raw control character: not JSON
    expect(decodeClientMessage(control)).toMatchObject({ ok: false, error: { code: 'MALFORMED_FRAME' } });
    const badEscape = frame(SDP).replace('s=-', String.raw`s=\q-`);
    expect(decodeClientMessage(badEscape)).toMatchObject({ ok: false, error: { code: 'MALFORMED_FRAME' } });
    expect(decodeClientMessage(frame('x'.repeat(SDP_MAX + 1)))).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMETER' } });
    expect(decodeClientMessage(frame(42))).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMETER' } });
  });

  it('decodes any SDP and any surrounding frame as a whole parse does, and re-encodes it to the same value', () => {
    const text = fc.string({ unit: 'binary', maxLength: 200 });
    fc.assert(
      fc.property(text, fc.dictionary(fc.string({ maxLength: 6 }), text, { maxKeys: 3 }), (sdp, extra) => {
        const raw = frame(sdp, extra);
        const want = reference(raw);
        const got = decodeClientMessage(raw);
        expect(got.ok).toBe(want.ok);
        if (!got.ok || !want.ok) return;
        expect(got.value).toEqual(want.value);
        const msg = relayed(got.value as ClientMessageOf<'rtc'>);
        expect(JSON.parse(encode(msg))).toEqual(JSON.parse(JSON.stringify(msg)));
      }),
      { numRuns: 500 },
    );
  });
});
