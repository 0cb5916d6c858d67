/** The pure parts of resume: tokens, the decision's token checks, the handshake query, seq splicing, request dedupe, settings. */
import { decodeClientMessage, decodeServerMessage, RESUME_REASONS } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { decideResume, parseResumeRequest, releasesHold, type HoldSnapshot } from '../../src/resume/decision.js';
import { withSeq } from '../../src/resume/frame.js';
import { frameBytes, TextFrame } from '../../src/state/outbound-frame.js';
import { replayLimits } from '../../src/resume/replay-store.js';
import { RequestLog } from '../../src/resume/request-log.js';
import { createResumeTokens } from '../../src/resume/token.js';
import { buildFrame } from '../../src/state/delivery.js';

const SECRET = 'a-secret-of-at-least-16-chars';
const claims = { userId: 'alice', cid: 'cid:abc', epoch: 'e1', generation: 2 };

describe('resume tokens', () => {
  const tokens = createResumeTokens([SECRET]);

  it('round-trip for the same user, URL-safe', () => {
    const token = tokens.mint(claims);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(tokens.verify(token, 'alice')).toEqual(claims);
  });

  it('are refused for another user, when tampered with, or signed with another secret', () => {
    const token = tokens.mint(claims);
    expect(tokens.verify(token, 'bob')).toBeNull();
    const [payload, mac] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ u: 'alice', c: 'cid:other', e: 'e1', g: 2 })).toString('base64url');
    expect(tokens.verify(`${forged}.${mac}`, 'alice')).toBeNull();
    expect(tokens.verify(`${payload}.${mac.slice(0, -1)}A`, 'alice')).toBeNull();
    expect(createResumeTokens(['another-secret-of-16-chars']).verify(token, 'alice')).toBeNull();
    for (const junk of ['', '.', 'abc', 'a.b.c', `${payload}.`, 'x'.repeat(2000)]) expect(tokens.verify(junk, 'alice')).toBeNull();
  });

  it('verify under any configured secret (rotation): the first signs', () => {
    const old = createResumeTokens(['old-secret-of-16-chars!']).mint(claims);
    const rotated = createResumeTokens(['new-secret-of-16-chars!', 'old-secret-of-16-chars!']);
    expect(rotated.verify(old, 'alice')).toEqual(claims);
    expect(createResumeTokens(['new-secret-of-16-chars!']).verify(rotated.mint(claims), 'alice')).toEqual(claims);
  });
});

describe('decideResume (the checks before the store)', () => {
  const hold: HoldSnapshot = { userId: 'alice', generation: 2, awaySince: 1_000, topSeq: 5, firstSeq: 3, overflowThrough: 0 };
  const base = { claims, epoch: 'e1', hold, lastSeq: 4, now: 1_500, windowMs: 30_000 };

  it.each([
    ['resumed', {}, { resumed: true, from: 5, to: 5 }],
    ['resume off', { windowMs: 0 }, { resumed: false, reason: 'disabled' }],
    ['token did not verify', { claims: null }, { resumed: false, reason: 'invalid_token' }],
    ['wrong epoch', { epoch: 'e2' }, { resumed: false, reason: 'epoch_changed' }],
    ['no hold', { hold: null }, { resumed: false, reason: 'expired' }],
    ['window passed', { now: 31_001 }, { resumed: false, reason: 'expired' }],
    ['window not yet passed', { now: 31_000 }, { resumed: true, from: 5, to: 5 }],
    ['live hold (half-open socket) ignores the window', { now: 99_999, hold: { ...hold, awaySince: null } }, { resumed: true, from: 5, to: 5 }],
    ['older generation', { claims: { ...claims, generation: 1 } }, { resumed: false, reason: 'taken_over' }],
    ['seq beyond top', { lastSeq: 6 }, { resumed: false, reason: 'invalid_seq' }],
    ['seq missing', { lastSeq: Number.NaN }, { resumed: false, reason: 'invalid_seq' }],
    ['gap expired', { lastSeq: 1 }, { resumed: false, reason: 'gap_expired' }],
    ['gap starts at the oldest kept frame', { lastSeq: 2 }, { resumed: true, from: 3, to: 5 }],
    ['overflowed', { lastSeq: 1, hold: { ...hold, overflowThrough: 2 } }, { resumed: false, reason: 'overflowed' }],
  ] as const)('%s', (_name, change, expected) => {
    expect(decideResume({ ...base, ...change } as Parameters<typeof decideResume>[0])).toEqual(expected);
  });

  it('every reason is in the protocol registry; refusals that free the hold', () => {
    for (const reason of ['invalid_token', 'epoch_changed', 'expired', 'taken_over', 'invalid_seq', 'overflowed', 'gap_expired', 'disabled']) {
      expect(Object.keys(RESUME_REASONS)).toContain(reason);
    }
    expect(releasesHold('gap_expired')).toBe(true);
    expect(releasesHold('taken_over')).toBe(false);
    expect(releasesHold('invalid_token')).toBe(false);
  });
});

describe('handshake query', () => {
  it('reads ?resume=&lastSeq=; a bad lastSeq is NaN (refused as invalid_seq, never a failed upgrade)', () => {
    const parse = (q: string) => parseResumeRequest(new URL(`ws://h/v1/realtime?${q}`).searchParams);
    expect(parse('')).toBeNull();
    expect(parse('resume=')).toBeNull();
    expect(parse('resume=t.m&lastSeq=42')).toEqual({ token: 't.m', lastSeq: 42 });
    for (const bad of ['', 'lastSeq=', 'lastSeq=-1', 'lastSeq=1e3', 'lastSeq=12345678901234567']) {
      expect(parse(`resume=t.m&${bad}`)!.lastSeq).toBeNaN();
    }
  });
});

describe('withSeq', () => {
  it('splices a seq into the shared bytes; the frame decodes with it, the original is untouched', () => {
    const frame = buildFrame({ type: 'message', message: { a: [1, '{'] }, sender: 'a', sender_cid: 'cid:a', sender_rid: 'g' });
    const before = frame.data.toString();
    const copy = withSeq(frame, 17);
    expect(copy.type).toBe('message');
    expect(frame.data.toString()).toBe(before);
    const decoded = decodeServerMessage(copy.data.toString());
    expect(decoded).toEqual({ ok: true, value: { ...JSON.parse(before), seq: 17 } });
  });

  it('numbers a frame not encoded yet from its text (non-ASCII included) and leaves the shared frame unencoded', () => {
    const frame = buildFrame({ type: 'private', message: 'caf\u00e9 \u2603 "q" \\', sender: 'a', sender_cid: 'cid:a', sender_rid: null }) as TextFrame;
    const copy = withSeq(frame, 3) as TextFrame;
    expect(frame.encoded).toBe(false);
    expect(copy.single).toBe(true); // small: a string for the socket to encode
    expect(decodeServerMessage(copy.text)).toEqual({ ok: true, value: { ...JSON.parse(frame.text), seq: 3 } });
    expect(frameBytes(frame)).toBe(Buffer.byteLength(frame.text));
    expect(frame.encoded).toBe(false);
    expect(withSeq(frame, 123456).data.toString('utf8')).toBe(`{"seq":123456,${frame.text.slice(1)}`);
  });

  it('numbers a relayed description from its parts: the SDP as it arrived, the same bytes as a whole-frame encode', () => {
    const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=caf\u00e9\r\n'.repeat(100);
    const raw = JSON.stringify({ type: 'rtc', id: 4, to: 'cid:b', call: 'c1', signal: { kind: 'description', description: { type: 'offer', sdp } } });
    const decoded = decodeClientMessage(raw);
    if (!decoded.ok || decoded.value.type !== 'rtc') throw new Error('the description did not decode');
    const message = { type: 'rtc' as const, call: 'c1', sender: 'a', sender_cid: 'cid:a', sender_name: 'A', signal: decoded.value.signal };
    const frame = buildFrame(message) as TextFrame;
    const whole = JSON.stringify(message);
    expect(frame.text).toBe(whole);
    expect(frameBytes(frame)).toBe(Buffer.byteLength(whole));
    const copies = [1, 22, 333]
      .map((seq) => withSeq(frame, seq))
      .map((copy) => {
        expect(copy).not.toBeInstanceOf(TextFrame); // written from the parts into bytes, no joined string
        return copy.data.toString('utf8');
      });
    expect(copies).toEqual([1, 22, 333].map((seq) => `{"seq":${seq},${whole.slice(1)}`));
    expect(frame.encoded).toBe(false);
    expect(frame.data.toString('utf8')).toBe(whole);
    expect(withSeq(frame, 7).data.toString('utf8')).toBe(`{"seq":7,${whole.slice(1)}`);
  });

  it('numbered copies are separate bytes: writing one does not touch another', () => {
    // Frames from Node's pool, carved from several slabs (4–8 KB), and one of its own (20 KB).
    const sizes = Array.from({ length: 60 }, (_, i) => (i === 40 ? 20_000 : i % 2 === 0 ? 5000 + i : 1000 + i));
    const frames = sizes.map((size) => buildFrame({ type: 'private', message: 'x'.repeat(size), sender: 'a', sender_cid: 'cid:a', sender_rid: null }));
    const copies = frames.map((frame, i) => withSeq(frame, i + 1).data);
    copies.forEach((copy, i) => expect(JSON.parse(copy.toString('utf8'))).toMatchObject({ seq: i + 1, message: 'x'.repeat(sizes[i]!) }));
  });
});

describe('RequestLog', () => {
  it('a re-sent id is a duplicate only when it ran under an earlier generation; bounded', () => {
    const log = new RequestLog(3);
    log.record(1, 0);
    expect(log.isDuplicate(1, 0)).toBe(false); // same socket: ids are not checked (raw clients may reuse them)
    expect(log.isDuplicate(1, 1)).toBe(true);
    expect(log.isDuplicate(2, 1)).toBe(false);
    log.record(2, 0);
    log.record(3, 0);
    log.record(4, 1);
    expect(log.size).toBe(3);
    expect(log.isDuplicate(1, 1)).toBe(false); // forgotten: the oldest went first
  });

  it('forgets a request once the client confirmed the frame that answered it; unanswered ones stay', () => {
    const log = new RequestLog();
    for (const id of [1, 2, 3]) log.record(id, 0);
    log.answer(1, 10);
    log.answer(2, 11);
    log.confirmed(10);
    expect([1, 2, 3].map((id) => log.isDuplicate(id, 1))).toEqual([false, true, true]);
    log.confirmed(1_000);
    expect([1, 2, 3].map((id) => log.isDuplicate(id, 1))).toEqual([false, false, true]);
    expect(log.size).toBe(1); // 3 is still running: its answer may be lost with the socket
  });

  it('without confirmations it keeps at most `max` answers, and a late confirmation still clears them', () => {
    const log = new RequestLog(3);
    for (let id = 1; id <= 500; id++) {
      log.record(id, 0);
      log.answer(id, id);
    }
    expect(log.size).toBe(3);
    expect(log.answersHeld).toBeLessThanOrEqual(64); // the array does not grow with what it no longer keeps
    log.confirmed(499);
    expect([498, 499, 500].map((id) => log.isDuplicate(id, 1))).toEqual([false, false, true]);
    for (let id = 501; id <= 600; id++) {
      log.record(id, 0);
      log.answer(id, id);
      log.confirmed(id); // a client confirming as it goes keeps nothing
    }
    expect(log.size).toBe(0);
  });
});

describe('settings', () => {
  it('defaults, ranges, and the derived buffer age', () => {
    const config = resolveConfig({});
    expect(config.resume).toEqual({ windowMs: 30_000, maxBufferedFrames: 1_000, maxBufferedBytes: 1024 * 1024 });
    expect(replayLimits(config)).toEqual({ windowMs: 30_000, maxFrames: 1_000, maxBytes: 1024 * 1024, maxAgeMs: 60_000 });
    expect(resolveConfig({ resume: { windowMs: 0 } }).resume.windowMs).toBe(0);
    expect(() => resolveConfig({ resume: { windowMs: -1 } })).toThrow(/resume\.windowMs/);
    expect(() => resolveConfig({ resume: { maxBufferedFrames: 0 } })).toThrow(/resume\.maxBufferedFrames/);
    expect(() => resolveConfig({ resume: { maxBufferedBytes: 1024 } })).toThrow(/resume\.maxBufferedBytes/);
  });
});
