// The RTC_ICE_FAILED hint: what ICE saw → what to fix. The browser side (no TURN, wrong
// secret) is proven in e2e/turn.test.ts across a network without a direct path.
import { describe, expect, it } from 'vitest';
import { IceDiagnosis } from '../src/rtc/ice-diagnosis.js';

const TURN = { urls: ['turn:turn.example.com:3478?transport=udp', 'turn:turn.example.com:3478?transport=tcp'], username: '1:u', credential: 'c' };
const RELAY = 'candidate:1 1 udp 41885439 203.0.113.9 50000 typ relay raddr 0.0.0.0 rport 0';
const HOST = 'candidate:2 1 udp 2122260223 192.168.1.5 53000 typ host generation 0';

describe('IceDiagnosis', () => {
  it('no TURN URL (only STUN, or nothing): says TURN is not configured and how to configure it', () => {
    for (const iceServers of [[], [{ urls: 'stun:stun.example.com:3478' }]]) {
      const d = new IceDiagnosis({ iceServers });
      d.local(HOST);
      expect(d.turnUrls).toEqual([]);
      expect(d.hint()).toMatch(
        /^No TURN server is configured for this call .* cannot connect\. Configure TURN on the server \(ice\.turn and ice\.turnSecrets; "switchboard turn-config"/,
      );
    }
    const d = new IceDiagnosis({ iceServers: [] });
    d.remote(RELAY);
    expect(d.hint()).toMatch(/the other side offered relay candidates: this side needs TURN too/);
  });

  it('TURN configured, no relay candidate, a 401 from the TURN URL: refused credentials (secret or clock)', () => {
    const d = new IceDiagnosis({ iceServers: [TURN] });
    d.local(HOST);
    d.error({ errorCode: 701, url: 'stun:stun.example.com:3478', errorText: 'STUN host lookup received error.' }); // not a TURN URL: ignored
    d.error({ errorCode: 401, url: TURN.urls[0], errorText: 'Unauthorized.' }); // Chromium's text ends with a period
    expect(d.turnErrors).toEqual([{ code: 401, url: TURN.urls[0], text: 'Unauthorized' }]);
    expect(d.hint()).toBe(
      `The TURN server refused the credentials (401 Unauthorized from ${TURN.urls[0]}): Switchboard's ice.turnSecrets must match coturn's static-auth-secret ` +
        'and the clocks of both hosts must agree (expired credentials are refused too). Run "switchboard doctor <server URL>" to check TURN from a machine on this network.',
    );
  });

  it('TURN configured, no relay candidate, 701 or no error at all: unreachable', () => {
    const silent = new IceDiagnosis({ iceServers: [TURN] });
    expect(silent.hint()).toMatch(
      /^The TURN server could not be reached from here \(no relay candidate from turn:turn\.example\.com:3478\?transport=udp\): a firewall/,
    );
    const d = new IceDiagnosis({ iceServers: [{ urls: 'turns:turn.example.com:443?transport=tcp', username: 'u', credential: 'c' }] });
    d.error({ errorCode: 701, url: 'turns:turn.example.com:443?transport=tcp', errorText: 'TURN host lookup received error.' });
    expect(d.hint()).toMatch(
      /could not be reached from here \(no relay candidate from turns:turn\.example\.com:443\?transport=tcp, error 701\): a firewall may block its ports, its TLS certificate is not valid for that host \(browsers check it\), or it is down/,
    );
    expect(silent.hint()).toMatch(/a firewall may block its ports or it is down/);
  });

  it('relay gathered here: blames the other side, or the relay ports when both sides relayed', () => {
    const d = new IceDiagnosis({ iceServers: [TURN] });
    d.local(`a=${RELAY}`); // node-datachannel's form
    expect(d.relayGathered).toBe(true);
    expect(d.hint()).toMatch(/^This side relayed through TURN, but the other side offered no relay candidate/);
    d.remote(RELAY);
    expect(d.hint()).toMatch(/^Both sides had TURN relay candidates, but no pair worked: the TURN server's relay ports may be blocked/);
  });

  it('ignores null/end-of-candidates and keeps at most 20 TURN errors', () => {
    const d = new IceDiagnosis({ iceServers: [TURN] });
    d.remote(null);
    d.remote(undefined);
    d.remote('');
    for (let i = 0; i < 30; i++) d.error({ errorCode: 701, url: TURN.urls[1] });
    d.error({ url: TURN.urls[0] }); // no code
    expect(d.remoteRelay).toBe(false);
    expect(d.turnErrors).toHaveLength(20);
  });
});
