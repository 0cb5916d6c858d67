/**
 * The peer session (packages/client/src/rtc) in real Chromium: two pages inside a
 * loopback-only network namespace, signals relayed by the test. Proves perfect
 * negotiation (with forced glare), tracks and channels added mid-call from either
 * side, the control channel, and the ICE restart policy (UDP blackholed with tc).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { pollPage } from './calls-support/call-app.js';
import { PeerPair } from './calls-support/peer-pages.js';
import type {} from './calls-support/peer-harness.js';
import { blockUdp, createNetns, describeWith, launchChromium, unblockUdp, type Netns } from '@switchboard/test-utils';

const waitFor = (page: Page, expression: string, timeout = 20_000): Promise<unknown> => pollPage(page, expression, timeout);

const connected = (page: Page, timeout?: number): Promise<unknown> => waitFor(page, `window.harness.state().connection === 'connected'`, timeout);

describeWith(['chromium', 'netns'], 'peer session in Chromium', () => {
  let ns: Netns;
  let browser: Browser;
  let pair: PeerPair | undefined;

  beforeAll(async () => {
    ns = createNetns('peer');
    browser = await launchChromium({ netns: ns });
  });

  afterAll(async () => {
    await pair?.close().catch(() => undefined);
    await browser?.close();
    ns?.delete();
  });

  async function fresh(): Promise<PeerPair> {
    await pair?.close().catch(() => undefined);
    pair = await PeerPair.open(browser);
    return pair;
  }

  it('connects caller and callee, media both ways, default channel reliable and labelled', async () => {
    const p = await fresh();
    const started = Date.now();
    await p.b.evaluate(() => window.harness.start({ polite: false, initialOfferer: false, media: { audio: true, video: true } }));
    await p.a.evaluate(() => window.harness.start({ polite: true, initialOfferer: true, media: { audio: true, video: true } }));
    await Promise.all([connected(p.a), connected(p.b)]);
    const connectMs = Date.now() - started;
    await waitFor(p.b, `window.harness.controlOpen() && window.harness.channelLabels().includes('default')`);
    await waitFor(p.a, `window.harness.controlOpen()`);
    expect(await p.a.evaluate(() => window.harness.send('default', 'hello'))).toBe(true);
    await waitFor(p.b, `(window.harness.received.default || []).includes('hello')`);
    await waitFor(p.a, `window.harness.framesDecoded().then((n) => n > 10)`);
    await waitFor(p.b, `window.harness.framesDecoded().then((n) => n > 10)`);
    const offers = await p.b.evaluate(() => window.harness.signalsOut.filter((s) => s.startsWith('description')));
    expect(offers).toEqual(['description:answer']); // the callee waited for the caller's offer: no glare
    const message = await p.b.evaluate(() => window.harness.events.find((e) => e.type === 'message'));
    expect(message).toMatchObject({ label: 'default', data: 'hello' });
    // The control channel is invisible: no event and no entry in channels.
    const labels = await p.a.evaluate(() => [...new Set(window.harness.events.map((e) => e.label).filter(Boolean))]);
    expect(labels).not.toContain('__switchboard');
    const icecandidates = await p.a.evaluate(() => window.harness.events.filter((e) => e.type === 'icecandidate').length);
    const candidateSignals = await p.a.evaluate(() => window.harness.signalsOut.filter((s) => s === 'candidate').length);
    expect(icecandidates + 1).toBe(candidateSignals); // once per candidate, plus end-of-candidates
    console.info(`[calls-peer] offer→connected ${connectMs} ms`);
  }, 60_000);

  it('settles an offer collision (both offer at once) with perfect negotiation', async () => {
    const p = await fresh();
    p.holding = true; // both offers cross: each side is in have-local-offer when the other's arrives
    await Promise.all([
      p.a.evaluate(() => window.harness.start({ polite: true, initialOfferer: true, media: { audio: false, video: true }, channels: ['text-chat'] })),
      p.b.evaluate(() => window.harness.start({ polite: false, initialOfferer: true, media: { audio: false, video: true }, channels: ['gaming'] })),
    ]);
    await waitFor(p.a, `window.harness.signalsOut.includes('description:offer')`);
    await waitFor(p.b, `window.harness.signalsOut.includes('description:offer')`);
    p.release();
    await Promise.all([connected(p.a), connected(p.b)]);
    await waitFor(p.a, `window.harness.channelLabels().includes('gaming') && window.harness.channelLabels().includes('text-chat')`);
    await waitFor(p.b, `window.harness.channelLabels().includes('gaming') && window.harness.channelLabels().includes('text-chat')`);
    await waitFor(p.a, `window.harness.framesDecoded().then((n) => n > 5)`);
    await waitFor(p.b, `window.harness.framesDecoded().then((n) => n > 5)`);
    // The polite side (a) rolled back and answered; the impolite side (b) kept its offer.
    expect(await p.a.evaluate(() => window.harness.signalsOut.filter((s) => s.startsWith('description')))).toContain('description:answer');
    expect(await p.b.evaluate(() => window.harness.state().signaling)).toBe('stable');
  }, 60_000);

  it('either side adds a track or a channel mid-call (also both at once) with renegotiation', async () => {
    const p = await fresh();
    await p.b.evaluate(() => window.harness.start({ polite: false, initialOfferer: false, media: null }));
    await p.a.evaluate(() => window.harness.start({ polite: true, initialOfferer: true, media: null }));
    await Promise.all([connected(p.a), connected(p.b)]);
    // The callee (not the first offerer) shares its screen: it makes the offer itself.
    await p.b.evaluate(() => window.harness.addVideo());
    await waitFor(p.a, `window.harness.tracks === 1`);
    await waitFor(p.a, `window.harness.framesDecoded().then((n) => n > 5)`);
    // A channel opened by either side reaches the other with its label.
    await p.b.evaluate(() => window.harness.openChannel('late-b'));
    await p.a.evaluate(() => window.harness.openChannel('late-a'));
    await waitFor(p.a, `window.harness.events.some((e) => e.type === 'open' && e.label === 'late-b')`);
    await waitFor(p.b, `window.harness.events.some((e) => e.type === 'open' && e.label === 'late-a')`);
    // Both add video at the same moment: a renegotiation collision, settled without help.
    await Promise.all([p.a.evaluate(() => window.harness.addVideo()), p.b.evaluate(() => window.harness.addVideo())]);
    await waitFor(p.b, `window.harness.tracks === 1`);
    await waitFor(p.a, `window.harness.tracks === 2`);
    await waitFor(p.a, `window.harness.state().signaling === 'stable'`);
    await waitFor(p.b, `window.harness.state().signaling === 'stable'`);
    await waitFor(p.b, `window.harness.framesDecoded().then((n) => n > 5)`);
  }, 60_000);

  it('restarts ICE after the disconnected grace period and recovers', async () => {
    const p = await fresh();
    const opts = { graceMs: 500, maxRestarts: 5, restartTimeoutMs: 2500 };
    await p.b.evaluate((o) => window.harness.start({ polite: false, initialOfferer: false, media: null, ...o }), opts);
    await p.a.evaluate((o) => window.harness.start({ polite: true, initialOfferer: true, media: null, ...o }), opts);
    await Promise.all([connected(p.a), connected(p.b)]);
    const offers = (page: Page): Promise<number> => page.evaluate(() => window.harness.signalsOut.filter((s) => s === 'description:offer').length);
    const ufrag = (page: Page): Promise<string | undefined> =>
      page.evaluate(() => /a=ice-ufrag:(\S+)/.exec(window.harness.pc?.remoteDescription?.sdp ?? '')?.[1]);
    const before = { a: await offers(p.a), b: await offers(p.b), ufrag: await ufrag(p.a) };
    blockUdp(ns);
    const blockedAt = Date.now();
    let disconnectedAfter: number;
    try {
      await waitFor(p.a, `['disconnected', 'failed'].includes(window.harness.state().connection)`, 30_000);
      disconnectedAfter = Date.now() - blockedAt;
      // The grace period passed and a restart offer went out while the path was down (from either side).
      await expect.poll(async () => (await offers(p.a)) - before.a + (await offers(p.b)) - before.b, { timeout: 15_000, interval: 50 }).toBeGreaterThan(0);
    } finally {
      unblockUdp(ns);
    }
    const unblockedAt = Date.now();
    await Promise.all([connected(p.a, 30_000), connected(p.b, 30_000)]);
    console.info(`[calls-peer] disconnected ${disconnectedAfter} ms after UDP was blocked; reconnected ${Date.now() - unblockedAt} ms after it was unblocked`);
    expect(await p.a.evaluate(() => window.harness.failed)).toBeNull();
    expect(await p.b.evaluate(() => window.harness.failed)).toBeNull();
    expect(await ufrag(p.a)).not.toBe(before.ufrag); // new ICE credentials: a real restart, not a self-recovery
    expect(await p.a.evaluate(() => window.harness.send('default', 'after-restart'))).toBe(true);
    await waitFor(p.b, `(window.harness.received.default || []).includes('after-restart')`);
  }, 90_000);

  it('gives up with RTC_ICE_FAILED and a TURN hint after the allowed restarts', async () => {
    const p = await fresh();
    const opts = { graceMs: 300, maxRestarts: 1, restartTimeoutMs: 1500 };
    await p.b.evaluate((o) => window.harness.start({ polite: false, initialOfferer: false, media: null, ...o }), opts);
    await p.a.evaluate((o) => window.harness.start({ polite: true, initialOfferer: true, media: null, ...o }), opts);
    await Promise.all([connected(p.a), connected(p.b)]);
    blockUdp(ns);
    try {
      await waitFor(p.a, `window.harness.failed !== null`, 40_000);
    } finally {
      unblockUdp(ns);
    }
    const failed = await p.a.evaluate(() => window.harness.failed);
    expect(failed).toMatch(/^RTC_ICE_FAILED: .*TURN/);
  }, 90_000);
});
