/**
 * Calls across network paths that break or need a relay: Chromium pages in network namespaces
 * joined by a veth link that goes down (ICE restart), and A–T–B with no direct path (TURN).
 * The real server runs in this process; coturn runs in the T namespace.
 */
import type { Browser } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
import { Phone } from './calls-support/call-app.js';
import { startSwitchboard } from './calls-support/stack.js';
import { waitUntil } from './calls-support/suite.js';
import {
  closeAllBrowsers,
  createLinkedPair,
  type LinkedPair,
  createRelayTopology,
  deleteAllNetns,
  describeWith,
  launchChromium,
  startCoturn,
  stopAllProcesses,
} from '@switchboard/test-utils';

const phones: Phone[] = [];

afterAll(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
  await closeAllBrowsers();
  await stopAllProcesses();
  deleteAllNetns();
});

/**
 * Alice (namespace A) and Bob (namespace B, joined to A by a veth link) in a video call through a
 * server in this process: `body` runs once Alice decodes frames; everything is torn down after.
 */
async function vethCall(
  subnet: string,
  group: string,
  options: { alice: Record<string, unknown>; bob: Record<string, unknown> },
  body: (a: Phone, b: Phone, pair: LinkedPair) => Promise<void>,
): Promise<void> {
  const stack = await startSwitchboard();
  const pair = createLinkedPair(subnet);
  const browsers: Browser[] = [];
  try {
    browsers.push(await launchChromium({ netns: pair.a }), await launchChromium({ netns: pair.b }));
    const a = await Phone.open(browsers[0]!, pair.a, stack.port, { name: 'alice', ...options.alice }, group);
    const b = await Phone.open(browsers[1]!, pair.b, stack.port, { name: 'bob', ...options.bob }, group);
    phones.push(a, b);
    const call = await a.call(b.cid, { media: { video: true } });
    await b.waitFor(`window.t.incoming && window.t.incoming.call === ${JSON.stringify(call)}`);
    await b.eval('window.t.accept({ media: { video: true } })');
    await a.waitFor(`window.t.connectionState() === 'connected'`);
    await a.waitFor('window.t.frames().then((n) => n >= 10)');
    await body(a, b, pair);
  } finally {
    await Promise.all(phones.splice(0).map((p) => p.close()));
    await Promise.all(browsers.map((br) => br.close()));
    await stack.close();
    pair.delete();
  }
}

describeWith(['chromium', 'netns'], 'calls over a veth link (ICE restart)', () => {
  it('the link goes down past the grace period: ICE restarts, and the call recovers when it comes back', async () => {
    const options = { iceDisconnectGraceMs: 500, maxIceRestarts: 10, iceRestartTimeoutMs: 3000 };
    await vethCall('10.77.9', 'veth', { alice: options, bob: options }, async (a, b, pair) => {
      const pairBefore = await a.eval<{ local: { address: string } }>('window.t.pair()');
      await a.eval('window.__firstTarget = window.t.resolved.target, true');
      pair.link.down();
      const downAt = Date.now();
      await a.waitFor(`['disconnected', 'failed'].includes(window.t.connectionState())`, 30_000);
      // Past the grace period a restart offer goes out (signaling still works: it does not use the link).
      await a.waitFor(
        `window.t.rtc.filter((e) => e.type === 'negotiationneeded').length >= 2 || window.t.rtc.filter((e) => e.type === 'signalingstatechange').length >= 4`,
        15_000,
      );
      pair.link.up();
      const upAt = Date.now();
      await a.waitFor(`window.t.connectionState() === 'connected'`, 30_000);
      await b.waitFor(`window.t.connectionState() === 'connected'`, 30_000);
      const frames = await a.eval<number>('window.t.frames()');
      // Decoding resumes a while after ICE reconnects; on a loaded CI machine that once took over 15 s.
      await a.waitFor(`window.t.frames().then((n) => n >= ${frames + 10})`, 30_000);
      expect(await a.eval('window.t.of("rtc:closed").length')).toBe(0);
      // Two browsers restart ICE in place: the same peer connection (no renewal, ADR 0007).
      expect(await a.eval('window.t.resolved.target === window.__firstTarget')).toBe(true);
      console.info(
        `[calls] veth: pair ${pairBefore?.local.address}; link down for ${upAt - downAt} ms; reconnected ${Date.now() - upAt} ms after it came back`,
      );
    });
  }, 120_000);
  it('an ICE restart that needs signaling while the callee is away from the server completes after its resume', async () => {
    // One restart attempt outlasts the blip (a second one would only send another offer to hold).
    const options = { iceDisconnectGraceMs: 500, maxIceRestarts: 10, iceRestartTimeoutMs: 15_000 };
    const bob = { ...options, reconnect: { baseDelayMs: 250, maxDelayMs: 1_000 }, requestTimeoutMs: 30_000 };
    await vethCall('10.77.10', 'veth-blip', { alice: options, bob }, async (a, b, pair) => {
      const ufrag = (side: 'local' | 'remote') => `((window.t.resolved.target.${side}Description || {}).sdp || '').match(/a=ice-ufrag:(\\S+)/)?.[1] ?? ''`;
      const aUfrag = await a.eval<string>(ufrag('local'));
      const bSeesUfrag = await b.eval<string>(ufrag('remote'));
      expect(bSeesUfrag).toBe(aUfrag);
      await a.eval('window.__firstTarget = window.t.resolved.target, true');
      await b.eval('window.__firstTarget = window.t.resolved.target, true');

      // Bob's path to the server and the media path go down together.
      await b.cut();
      pair.link.down();
      const downAt = Date.now();
      await b.waitFor(`window.t.sb.connectionState === 'reconnecting'`, 10_000);
      // Alice restarts ICE: new credentials in her offer, which the server holds for Bob while he is away.
      await a.waitFor(`${ufrag('local')} !== ${JSON.stringify(aUfrag)}`, 20_000);
      const offeredMs = Date.now() - downAt;
      const heldUfrag = await a.eval<string>(ufrag('local'));
      expect(await b.eval<string>(ufrag('remote'))).toBe(aUfrag);
      await waitUntil(downAt + 3_000);
      pair.link.up();
      await b.restore();
      const backAt = Date.now();

      const outcome = await b
        .waitFor(`window.t.rt.some((e) => e.type === 'reconnect' && 'resumed' in e)`, 20_000)
        .then(() => b.eval<Record<string, unknown>>(`window.t.rt.find((e) => e.type === 'reconnect' && 'resumed' in e)`));
      expect(outcome).toMatchObject({ resumed: true, cid: b.cid, previousCid: b.cid });
      // The held offer (Alice's credentials from during the blip) reached Bob after the resume, and he answered it in place.
      await b.waitFor(`${ufrag('remote')} === ${JSON.stringify(heldUfrag)}`, 15_000);
      await a.waitFor(`window.t.resolved.target.signalingState === 'stable' && window.t.connectionState() === 'connected'`, 30_000);
      await b.waitFor(`window.t.connectionState() === 'connected'`, 30_000);
      const restartedMs = Date.now() - backAt;
      expect(await b.eval<string>(ufrag('remote'))).toBe(await a.eval<string>(ufrag('local')));
      const frames = await b.eval<number>('window.t.frames()');
      await b.waitFor(`window.t.frames().then((n) => n >= ${frames + 10})`, 15_000);
      for (const p of [a, b]) {
        expect(await p.eval('window.t.of("rtc:closed").length')).toBe(0);
        expect(await p.eval('window.t.resolved.target === window.__firstTarget')).toBe(true);
      }
      expect(await b.eval('window.t.sb.cid')).toBe(b.cid);
      console.info(
        `[calls] ICE restart across a realtime blip: Alice's restart offer ${offeredMs} ms after the drop, held for Bob; Bob back after ${backAt - downAt} ms, resumed with his cid, restart answered and connected ${restartedMs} ms later`,
      );
    });
  }, 120_000);
});

describeWith(['chromium', 'netns', 'coturn'], 'calls across A–T–B (no direct path)', () => {
  it('without TURN the call ends with RTC_ICE_FAILED and a TURN hint; with TURN it connects relay to relay', async () => {
    const topo = createRelayTopology();
    const turn = await startCoturn({ netns: topo.t, listeningIps: [topo.tIpA, topo.tIpB], relayIp: topo.tRelayIp });
    const stack = await startSwitchboard({
      ice: { turn: [`turn:${topo.tIpA}:${turn.port}?transport=udp`, `turn:${topo.tIpB}:${turn.port}?transport=udp`], turnSecrets: [turn.secret] },
    });
    const browsers: Browser[] = [];
    try {
      browsers.push(await launchChromium({ netns: topo.a }), await launchChromium({ netns: topo.b }));
      const options = { iceDisconnectGraceMs: 500, maxIceRestarts: 1, iceRestartTimeoutMs: 4000 };
      const a = await Phone.open(browsers[0]!, topo.a, stack.port, { name: 'alice', ...options }, 'atb');
      const b = await Phone.open(browsers[1]!, topo.b, stack.port, { name: 'bob', ...options }, 'atb');
      phones.push(a, b);

      // 1. No TURN (ice: []): no path at all.
      const started = Date.now();
      await a.call(b.cid, { ice: [], media: { video: true } });
      await b.waitFor('window.t.incoming !== null');
      await b.eval('window.t.accept({ ice: [] })');
      await a.waitFor(`window.t.of('rtc:closed').length === 1`, 40_000);
      await b.waitFor(`window.t.of('rtc:closed').length === 1`, 10_000);
      const closedA = (await a.eval<{ message: { reason: string; error?: { code: string; message: string } } }[]>('window.t.of("rtc:closed")'))[0]!;
      expect(closedA.message).toMatchObject({ reason: 'ice_failed', error: { code: 'RTC_ICE_FAILED', message: expect.stringMatching(/TURN/) } });
      console.info(`[calls] A–T–B without TURN: rtc:closed ice_failed after ${Date.now() - started} ms`);

      // 2. The server's TURN (REST credentials), relay only: relay/relay.
      await a.eval('window.t.clear()');
      await b.eval('window.t.clear()');
      await a.call(b.cid, { iceTransportPolicy: 'relay', media: { video: true } });
      await b.waitFor('window.t.incoming !== null');
      await b.eval(`window.t.accept({ iceTransportPolicy: 'relay', media: { video: true } })`);
      await a.waitFor(`window.t.connectionState() === 'connected'`, 30_000);
      await b.waitFor('window.t.frames().then((n) => n >= 10)', 20_000);
      const selected = await a.eval<{ local: { candidateType: string }; remote: { candidateType: string } }>('window.t.pair()');
      expect(selected).toMatchObject({ local: { candidateType: 'relay' }, remote: { candidateType: 'relay' } });
      console.info(
        `[calls] A–T–B with TURN: relay/relay, accept→connected ${Math.round(await a.eval<number>('window.t.connectedAfter(window.t.resolvedAt)'))} ms`,
      );
    } finally {
      await Promise.all(phones.splice(0).map((p) => p.close()));
      await Promise.all(browsers.map((br) => br.close()));
      await stack.close();
      await turn.stop();
      topo.delete();
    }
  }, 150_000);
});
