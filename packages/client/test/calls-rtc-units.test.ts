/** Units of the peer layer that need no peer connection: channel presets, ICE params, the restart policy. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IceRestartPolicy, normalizeChannels, normalizeIce, parseControl } from '../src/rtc/index.js';

describe('data channel presets', () => {
  it('defaults to one reliable, ordered channel labelled "default"', () => {
    expect(normalizeChannels(undefined)).toEqual([{ label: 'default', init: { ordered: true, protocol: 'default' } }]);
  });
  it("keeps Skapi's presets; a single preset string works; label = protocol", () => {
    expect(normalizeChannels('text-chat')).toEqual([{ label: 'text-chat', init: { ordered: true, maxRetransmits: 10, protocol: 'text-chat' } }]);
    expect(normalizeChannels(['file-transfer', 'gaming']).map((c) => c.init)).toEqual([
      { ordered: false, maxPacketLifeTime: 3000, protocol: 'file-transfer' },
      { ordered: false, maxPacketLifeTime: 100, protocol: 'gaming' },
    ]);
    expect(normalizeChannels([{ protocol: 'x', maxRetransmits: 0 }])).toEqual([{ label: 'x', init: { ordered: true, protocol: 'x', maxRetransmits: 0 } }]);
    expect(normalizeChannels([])).toEqual([]);
  });
  it('rejects invalid items with INVALID_PARAMETER', () => {
    for (const bad of [
      ['nope'],
      [1],
      [null],
      [{ ordered: 'yes' }],
      [{ maxRetransmits: 1, maxPacketLifeTime: 1 }],
      [{ negotiated: true }],
      [{ label: '__switchboard' }],
      [{ foo: 1 }],
      42,
      {},
    ]) {
      expect(() => normalizeChannels(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER' }));
    }
  });
});

describe('ice parameter', () => {
  it('accepts a URL, URLs, or RTCIceServer[]; falls back to the server list', () => {
    expect(normalizeIce('stun:a:3478', [])).toEqual([{ urls: 'stun:a:3478' }]);
    expect(normalizeIce(['stun:a', 'turn:b'], [])).toEqual([{ urls: ['stun:a', 'turn:b'] }]);
    expect(normalizeIce([{ urls: 'turn:b', username: 'u', credential: 'c' }], [])).toEqual([{ urls: 'turn:b', username: 'u', credential: 'c' }]);
    expect(normalizeIce(undefined, [{ urls: 'stun:s' }])).toEqual([{ urls: 'stun:s' }]);
    expect(() => normalizeIce('http://x', [])).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER' }));
  });
});

describe('control messages', () => {
  it('parses known messages and ignores anything else', () => {
    expect(parseControl('{"t":"hangup","reason":"hangup"}')).toEqual({ t: 'hangup', reason: 'hangup' });
    expect(parseControl('{"t":"cid","cid":"cid:x"}')).toEqual({ t: 'cid', cid: 'cid:x' });
    expect(parseControl('{"t":"cid","cid":"x"}')).toBeNull();
    expect(parseControl('{"t":"signal","signal":{"kind":"candidate","candidate":null}}')).toEqual({
      t: 'signal',
      signal: { kind: 'candidate', candidate: null },
    });
    expect(parseControl('nope')).toBeNull();
    expect(parseControl(new ArrayBuffer(2))).toBeNull();
  });
});

describe('ICE restart policy', () => {
  afterEach(() => vi.useRealTimers());
  const make = (maxRestarts = 3): { policy: IceRestartPolicy; restarts: number[]; failed: number[] } => {
    const restarts: number[] = [];
    const failed: number[] = [];
    const policy = new IceRestartPolicy(
      { graceMs: 3000, maxRestarts, attemptTimeoutMs: 10_000 },
      { restart: (n) => restarts.push(n), fail: (n) => failed.push(n) },
    );
    return { policy, restarts, failed };
  };

  it('waits the grace period on disconnected; a recovery inside it needs no restart', () => {
    vi.useFakeTimers();
    const { policy, restarts } = make();
    policy.update('connected');
    policy.update('disconnected');
    vi.advanceTimersByTime(2999);
    policy.update('connected');
    vi.advanceTimersByTime(10_000);
    expect(restarts).toEqual([]);
    policy.update('disconnected');
    vi.advanceTimersByTime(3000);
    expect(restarts).toEqual([1]);
    policy.dispose();
  });

  it('restarts at once on failed, and gives up after maxRestarts failed restarts', () => {
    vi.useFakeTimers();
    const { policy, restarts, failed } = make(3);
    policy.update('connected');
    policy.update('failed');
    expect(restarts).toEqual([1]);
    policy.update('connecting');
    policy.update('failed');
    expect(restarts).toEqual([1, 2]);
    vi.advanceTimersByTime(10_000); // the third attempt never connects
    expect(restarts).toEqual([1, 2, 3]);
    expect(failed).toEqual([]);
    policy.update('connecting');
    policy.update('failed'); // the third restart failed too
    expect(failed).toEqual([3]);
    expect(restarts).toEqual([1, 2, 3]);
  });

  it('counts a first connection that never comes as a failed attempt; connected resets the count', () => {
    vi.useFakeTimers();
    const { policy, restarts, failed } = make(1);
    vi.advanceTimersByTime(10_000);
    expect(restarts).toEqual([1]);
    policy.update('connected');
    policy.update('failed');
    expect(restarts).toEqual([1, 1]);
    vi.advanceTimersByTime(10_000);
    expect(failed).toEqual([1]);
  });
});
