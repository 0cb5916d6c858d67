import { describe, expect, it } from 'vitest';
import { CLOSE_CODES, ERROR_CODES, SwitchboardError, closeCodeReconnects, isErrorCode, type ErrorCode } from '@switchboard/protocol';

describe('ERROR_CODES registry', () => {
  it('has UPPER_SNAKE codes with a boolean retryable and a sentence of description', () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(typeof entry.retryable).toBe('boolean');
      expect(entry.description.length).toBeGreaterThan(10);
      expect(entry.description.trimEnd().endsWith('.')).toBe(true);
    }
  });

  it("keeps Skapi's codes", () => {
    for (const code of ['INVALID_REQUEST', 'INVALID_PARAMETER', 'NOT_SUPPORTED']) expect(isErrorCode(code)).toBe(true);
  });

  it('isErrorCode accepts registry codes only (no prototype keys, no non-strings)', () => {
    expect(isErrorCode('RTC_BUSY')).toBe(true);
    for (const value of ['toString', '__proto__', 'constructor', 'rtc_busy', '', 42, null, undefined, {}]) {
      expect(isErrorCode(value)).toBe(false);
    }
  });
});

describe('SwitchboardError', () => {
  it('is an Error with code, message, name and retryable from the registry', () => {
    const error = new SwitchboardError('RATE_LIMITED', 'Slow down.');
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(SwitchboardError);
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.message).toBe('Slow down.');
    expect(error.name).toBe('SwitchboardError');
    expect(error.retryable).toBe(true);
    expect(error.details).toBeUndefined();
    expect(error.stack).toContain('Slow down.');
  });

  it('defaults the message to the registry description', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const error = new SwitchboardError(code);
      expect(error.message).toBe(ERROR_CODES[code].description);
      expect(error.retryable).toBe(ERROR_CODES[code].retryable);
    }
  });

  it('takes a name (Skapi sets the method name), details and a cause', () => {
    const cause = new TypeError('inner');
    const error = new SwitchboardError('INTERNAL', 'outer', { name: 'postRealtime()', details: { id: 3 }, cause });
    expect(error.name).toBe('postRealtime()');
    expect(error.details).toEqual({ id: 3 });
    expect(error.cause).toBe(cause);
    expect('cause' in new SwitchboardError('INTERNAL')).toBe(false);
  });

  it('has static factories for the Skapi validation codes', () => {
    const parameter = SwitchboardError.invalidParameter('"cid" should be a valid connection id.');
    expect(parameter.code).toBe('INVALID_PARAMETER');
    expect(parameter.message).toBe('"cid" should be a valid connection id.');
    expect(SwitchboardError.invalidRequest('No recipient.').code).toBe('INVALID_REQUEST');
  });

  it('serialises to {code, message, name} as JSON', () => {
    const error = new SwitchboardError('RTC_TIMEOUT', 'Nobody answered.', { details: { secret: 1 } });
    expect(JSON.parse(JSON.stringify(error))).toEqual({ code: 'RTC_TIMEOUT', message: 'Nobody answered.', name: 'SwitchboardError' });
  });
});

describe('CLOSE_CODES and closeCodeReconnects', () => {
  it('puts reconnecting codes in 4000–4499 and terminal ones in 4500–4999', () => {
    const numbers = new Set<number>();
    for (const entry of Object.values(CLOSE_CODES)) {
      expect(numbers.has(entry.code), `duplicate close code ${entry.code}`).toBe(false);
      numbers.add(entry.code);
      expect(entry.code).toBeGreaterThanOrEqual(4000);
      expect(entry.code).toBeLessThanOrEqual(4999);
      expect(entry.reconnect).toBe(entry.code < 4500);
      expect(closeCodeReconnects(entry.code)).toBe(entry.reconnect);
      expect(entry.description.length).toBeGreaterThan(10);
    }
  });

  it.each([
    [1000, false, 'normal close asked for by the client'],
    [1001, true, 'going away (server restart, proxy)'],
    [1006, true, 'abnormal close (network)'],
    [1011, true, 'server error'],
    [1009, true, 'message too big (ws maxPayload)'],
    [4000, true, 'first reconnect code'],
    [4499, true, 'last reconnect code'],
    [4500, false, 'first terminal code'],
    [4999, false, 'last terminal code'],
    [3000, true, 'registered library code'],
  ])('%i reconnects: %s (%s)', (code, reconnects) => {
    expect(closeCodeReconnects(code)).toBe(reconnects);
  });
});
