/**
 * The peer session on node-datachannel's W3C polyfill (the Node peer stack): no
 * `negotiationneeded`, offers made by libdatachannel itself, candidates prefixed "a=",
 * no restartIce. Two sessions in this process, signals relayed in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PeerSession, normalizeChannels, type PeerSignal } from '../src/rtc/index.js';
import { until } from './calls-fakes.js';

const polyfill = await import('node-datachannel/polyfill').catch(() => null);

class LoopbackPC extends (polyfill?.RTCPeerConnection ?? Object) {
  constructor(config?: RTCConfiguration) {
    super({ ...config, bindAddress: '127.0.0.1' } as RTCConfiguration);
  }
}

const sessions: PeerSession[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});

function session(polite: boolean, initialOfferer: boolean, channels: unknown): PeerSession {
  const s = new PeerSession({
    RTCPeerConnection: LoopbackPC as unknown as typeof RTCPeerConnection,
    config: { iceServers: [] },
    polite,
    initialOfferer,
    channels: normalizeChannels(channels),
    stream: null,
    iceDisconnectGraceMs: 3000,
    maxIceRestarts: 3,
    iceRestartTimeoutMs: 10_000,
  });
  sessions.push(s);
  return s;
}

function link(a: PeerSession, b: PeerSession): PeerSignal[] {
  const seen: PeerSignal[] = [];
  a.on('signal', (signal) => {
    seen.push(signal);
    setTimeout(() => b.handleSignal(JSON.parse(JSON.stringify(signal)) as PeerSignal), 0);
  });
  b.on('signal', (signal) => {
    seen.push(signal);
    setTimeout(() => a.handleSignal(JSON.parse(JSON.stringify(signal)) as PeerSignal), 0);
  });
  return seen;
}

describe.skipIf(polyfill === null)('peer session on node-datachannel', () => {
  it('connects caller and callee: default channel with label, control channel hang-up', async () => {
    const caller = session(true, true, undefined);
    const callee = session(false, false, []);
    const seen = link(caller, callee);
    const got: unknown[] = [];
    callee.on('event', (e) => {
      if (e.type === 'message') got.push({ label: e.label, data: e.data });
    });
    const hangups: unknown[] = [];
    callee.on('control', (m) => {
      if (m.t === 'hangup') hangups.push(m);
    });
    await until(() => caller.isConnected && callee.isConnected, 10_000);
    await until(() => caller.channels['default']?.readyState === 'open' && callee.controlOpen && caller.controlOpen, 10_000);
    caller.channels['default']!.send('hello');
    await until(() => got.length === 1, 5000);
    expect(got).toEqual([{ label: 'default', data: 'hello' }]);
    expect(seen.filter((s) => s.kind === 'candidate' && s.candidate?.candidate.startsWith('a='))).toHaveLength(0);
    expect(caller.sendControl({ t: 'hangup', reason: 'hangup' })).toBe(true);
    await until(() => hangups.length === 1, 5000);
  }, 20_000);
});
