import { describe, expect, it } from 'vitest';
import {
  CID_PREFIX,
  DEFAULT_LIMITS,
  GROUP_NAME_MAX,
  GROUP_NAME_PATTERN,
  REALTIME_PATH,
  SUBPROTOCOL,
  TOKEN_SUBPROTOCOL_PREFIX,
  groupNameProblem,
  isCid,
} from '@switchboard/protocol';

describe('groupNameProblem', () => {
  it.each([
    ['lobby'],
    ['Room 1'],
    ['회의실 1'],
    ['हिन्दी'], // Devanagari: vowel signs are combining marks
    ['Cafe\u0301'], // decomposed é
    ['ภาษาไทย'],
    ['a'.repeat(GROUP_NAME_MAX)],
    ['team_a-b.c@d#e+f~g!h:i'],
    ['3f2504e0-4f89-11d3-9a0c-0305e82c3301'], // UUID-shaped names are fine: the server routes, not the client
    ['cid'],
    ['CID:x'],
  ])('accepts %j', (name) => {
    expect(groupNameProblem(name)).toBeNull();
  });

  it.each([
    ['', /empty/],
    ['a'.repeat(GROUP_NAME_MAX + 1), /at most 64/],
    ['cid:abc', /cid:/],
    [' lobby', /spaces/],
    ['lobby ', /spaces/],
    ['a/b', /may contain/],
    ['tab\there', /may contain/],
    ['new\nline', /may contain/],
    ['emoji 🎉', /may contain/],
    ['quote"', /may contain/],
    ['<script>', /may contain/],
  ])('rejects %j', (name, reason) => {
    expect(groupNameProblem(name)).toMatch(reason);
  });

  it('agrees with GROUP_NAME_PATTERN for names that are not reserved', () => {
    for (const name of ['ok', ' no', 'x'.repeat(64), 'x'.repeat(65), 'a b', 'a\u00a0b']) {
      expect(groupNameProblem(name) === null).toBe(GROUP_NAME_PATTERN.test(name));
    }
  });
});

describe('isCid', () => {
  it('needs the prefix and something after it', () => {
    expect(isCid('cid:x')).toBe(true);
    expect(isCid(CID_PREFIX)).toBe(false);
    expect(isCid('user')).toBe(false);
    expect(isCid('CID:x')).toBe(false);
  });
});

describe('constants', () => {
  it('match the documented endpoint, subprotocols and defaults', () => {
    expect(REALTIME_PATH).toBe('/v1/realtime');
    expect(SUBPROTOCOL).toBe('switchboard.v1');
    expect(TOKEN_SUBPROTOCOL_PREFIX).toBe('bearer.');
    expect(DEFAULT_LIMITS).toEqual({
      maxFrameBytes: 131072,
      messagesPerSecond: 50,
      messageBurst: 100,
      maxConnectionsPerUser: 20,
      maxViolations: 20,
      violationWindowMs: 10000,
      heartbeatMs: 15000,
      maxNotificationBytes: 3072,
    });
  });
});
