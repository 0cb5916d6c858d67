// Units of the renewal path (fake timers): who renews when, which signals go where, the
// control-channel heartbeat, the caps message and what a call's channel state remembers.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { POLITE_RENEWAL_DELAY_MS, Renewal } from '../src/calls/renewal.js';
import { CallChannels, parseControl } from '../src/rtc/index.js';
import { ControlLiveness } from '../src/rtc/liveness.js';

afterEach(() => {
  vi.useRealTimers();
});

const offer = (pc?: number) => ({ kind: 'description' as const, description: { type: 'offer' as const, sdp: 'v=0' }, ...(pc === undefined ? {} : { pc }) });
const answer = (pc?: number) => ({ kind: 'description' as const, description: { type: 'answer' as const, sdp: 'v=0' }, ...(pc === undefined ? {} : { pc }) });
const candidate = (pc?: number) => ({ kind: 'candidate' as const, candidate: null, ...(pc === undefined ? {} : { pc }) });

describe('Renewal', () => {
  it('routes signals by generation: ours go to the session, older ones are dropped, a newer offer takes over', () => {
    const renewal = new Renewal(() => undefined);
    expect(renewal.route(offer())).toBe('current');
    expect(renewal.route(candidate(0))).toBe('current');
    expect(renewal.route(offer(1))).toBe('newer');
    expect(renewal.route(answer(1))).toBe('stale');
    expect(renewal.route(candidate(1))).toBe('stale');
    renewal.advanced(2);
    expect(renewal.route(candidate(2))).toBe('current');
    expect(renewal.route(candidate())).toBe('stale');
    expect(renewal.route(offer(1))).toBe('stale');
  });

  it('the impolite side renews at once, the polite side only if no renewal offer came meanwhile', () => {
    vi.useFakeTimers();
    const renewed: [number, number][] = [];
    const impolite = new Renewal((generation, restarts) => renewed.push([generation, restarts]));
    impolite.request(false, 1);
    expect(renewed).toEqual([[1, 1]]);

    renewed.length = 0;
    const polite = new Renewal((generation, restarts) => renewed.push([generation, restarts]));
    polite.request(true, 1);
    polite.request(true, 1); // a second request while waiting changes nothing
    vi.advanceTimersByTime(POLITE_RENEWAL_DELAY_MS - 1);
    expect(renewed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(renewed).toEqual([[1, 1]]);

    renewed.length = 0;
    const adopted = new Renewal((generation, restarts) => renewed.push([generation, restarts]));
    adopted.request(true, 2);
    adopted.advanced(1); // the peer's offer arrived first
    vi.advanceTimersByTime(POLITE_RENEWAL_DELAY_MS * 2);
    expect(renewed).toEqual([]);

    const ended = new Renewal((generation, restarts) => renewed.push([generation, restarts]));
    ended.request(true, 1);
    ended.dispose();
    vi.advanceTimersByTime(POLITE_RENEWAL_DELAY_MS * 2);
    expect(renewed).toEqual([]);
  });
});

describe('control-channel heartbeat', () => {
  it('pings every interval, reads silence as down and the next message as up again', () => {
    vi.useFakeTimers();
    const changes: boolean[] = [];
    let pings = 0;
    const liveness = new ControlLiveness({ intervalMs: 1_000, silenceMs: 2_500 }, { ping: () => pings++, change: (silent) => changes.push(silent) });
    liveness.start();
    vi.advanceTimersByTime(2_000);
    liveness.heard();
    vi.advanceTimersByTime(2_000);
    expect(pings).toBe(4);
    expect(changes).toEqual([]);
    vi.advanceTimersByTime(1_000); // 3 s since the peer was last heard
    expect(changes).toEqual([true]);
    expect(liveness.silent).toBe(true);
    vi.advanceTimersByTime(5_000);
    expect(changes).toEqual([true]);
    liveness.heard();
    expect(changes).toEqual([true, false]);
    liveness.stop();
    vi.advanceTimersByTime(10_000);
    expect(pings).toBe(10);
    expect(changes).toEqual([true, false]);
  });

  it('counts bytes arriving on the transport as life (a ping stuck behind a file on a slow path)', () => {
    vi.useFakeTimers();
    const changes: boolean[] = [];
    let received = 0;
    const liveness = new ControlLiveness(
      { intervalMs: 1_000, silenceMs: 2_500 },
      {
        ping: () => undefined,
        change: (silent) => changes.push(silent),
        activity: () => received,
      },
    );
    liveness.start();
    for (let second = 0; second < 10; second += 1) {
      received += 30_000; // acknowledgements of the data we send keep coming; no control message does
      vi.advanceTimersByTime(1_000);
    }
    expect(changes).toEqual([]);
    vi.advanceTimersByTime(3_000); // now nothing arrives at all
    expect(changes).toEqual([true]);
    received += 100;
    vi.advanceTimersByTime(1_000);
    expect(changes).toEqual([true, false]);
    liveness.stop();
  });

  it('counts a send queue that moves under a queued ping as life (a receiver that answers pings only after the file)', () => {
    vi.useFakeTimers();
    const changes: boolean[] = [];
    let sent = 0;
    let queued = true;
    const liveness = new ControlLiveness(
      { intervalMs: 1_000, silenceMs: 2_500 },
      {
        ping: () => undefined,
        change: (silent) => changes.push(silent),
        activity: () => 0, // libdatachannel: acknowledgements are not counted as received bytes
        sent: () => sent,
        pingQueued: () => queued,
      },
    );
    liveness.start();
    for (let second = 0; second < 10; second += 1) {
      sent += 3_000_000; // SCTP takes more of the queue as the peer acknowledges
      vi.advanceTimersByTime(1_000);
    }
    expect(changes).toEqual([]);
    vi.advanceTimersByTime(3_000); // the path died: the queue stays full
    expect(changes).toEqual([true]);
    liveness.stop();

    // Bytes sent while no ping waits in the queue prove nothing (they go into a buffer, dead path or not).
    const idle: boolean[] = [];
    queued = false;
    const quiet = new ControlLiveness(
      { intervalMs: 1_000, silenceMs: 2_500 },
      { ping: () => (sent += 20), change: (silent) => idle.push(silent), sent: () => sent, pingQueued: () => queued },
    );
    quiet.start();
    vi.advanceTimersByTime(3_000);
    expect(idle).toEqual([true]);
    quiet.stop();
  });
});

describe('caps control message', () => {
  it('is parsed when well-formed and ignored otherwise', () => {
    expect(parseControl('{"t":"caps","iceRestart":false}')).toEqual({ t: 'caps', iceRestart: false });
    expect(parseControl('{"t":"caps","iceRestart":"no"}')).toBeNull();
    expect(parseControl('{"t":"caps"}')).toBeNull();
  });
});

describe('CallChannels', () => {
  it('remembers the channels this side opened (first options win) until forgotten', () => {
    const channels = new CallChannels();
    channels.remember('default', { ordered: true, protocol: 'default' });
    channels.remember('default', { ordered: false });
    channels.remember('paired', { negotiated: true, id: 7 });
    expect(channels.own()).toEqual([
      { label: 'default', init: { ordered: true, protocol: 'default' } },
      { label: 'paired', init: { negotiated: true, id: 7 } },
    ]);
    channels.own()[0]!.init.ordered = false; // copies: a session cannot change what is remembered
    channels.forget('default');
    expect(channels.own()).toEqual([{ label: 'paired', init: { negotiated: true, id: 7 } }]);
  });
});
