/**
 * Chromium ⇄ Firefox: 1:1 calls through the real server, in both directions, between Debian's
 * Chromium (Playwright) and Firefox ESR (puppeteer-core over WebDriver BiDi), both inside one
 * network namespace. Both pages run the same browser bundle and test page (CALL_APP_SCRIPT).
 * Proves video decoded both ways (getStats framesDecoded), data channel messages both ways and
 * the hang-up arriving; and a 3-way group call (full mesh) of two Chromium pages and one Firefox
 * page. Figures are printed.
 */
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import type { Browser as FirefoxBrowser } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  closeAllBrowsers,
  closeAllFirefox,
  createNetns,
  deleteAllNetns,
  describeWithFirefox,
  launchChromium,
  launchFirefox,
  stopAllProcesses,
  type Netns,
} from '@switchboard/test-utils';
import { BUNDLE_PATH, Phone } from './calls-support/call-app.js';
import { startSwitchboard, type Stack } from './calls-support/stack.js';
import { FirefoxPhone } from './firefox-support/firefox-phone.js';
import { installGroupDriver, joinGroupCall, msUntilGone, waitForMesh } from './group-support/group-driver.js';

type AnyPhone = Phone | FirefoxPhone;
const phones: AnyPhone[] = [];
let groupCounter = 0;

describeWithFirefox(['chromium', 'netns'], 'calls between Chromium and Firefox', () => {
  let ns: Netns;
  let chromium: Browser;
  let firefox: FirefoxBrowser;
  let stack: Stack;

  beforeAll(async () => {
    readFileSync(BUNDLE_PATH); // built by `npm run build -w @switchboard/client`
    ns = createNetns('firefox');
    stack = await startSwitchboard();
    chromium = await launchChromium({ netns: ns, args: ['--autoplay-policy=no-user-gesture-required'] });
    firefox = await launchFirefox({ netns: ns });
  }, 120_000);

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
  });

  afterAll(async () => {
    await closeAllFirefox();
    await closeAllBrowsers();
    await stack?.close();
    await stopAllProcesses();
    deleteAllNetns();
  });

  // Generous ICE timing: two cores shared with other suites.
  const sdkOptions = { iceRestartTimeoutMs: 30_000, iceDisconnectGraceMs: 10_000 };
  const open = async (kind: 'chromium' | 'firefox', name: string, group: string): Promise<AnyPhone> => {
    const phone =
      kind === 'chromium'
        ? await Phone.open(chromium, ns, stack.port, { name, ...sdkOptions }, group)
        : await FirefoxPhone.open(firefox, ns, stack.port, { name, ...sdkOptions }, group);
    phones.push(phone);
    return phone;
  };

  for (const [callerKind, calleeKind] of [
    ['chromium', 'firefox'],
    ['firefox', 'chromium'],
  ] as const) {
    it(`${callerKind} calls ${calleeKind}: video decoded both ways, data channel both ways, hang-up arrives`, async () => {
      const group = `ff-${++groupCounter}`;
      const a = await open(callerKind, `${callerKind}-caller`, group);
      const b = await open(calleeKind, `${calleeKind}-callee`, group);
      const media = { audio: true, video: true };
      const call = await a.call(b.cid, { media });
      await b.waitFor(`window.t.incoming && window.t.incoming.call === ${JSON.stringify(call)}`);
      await b.accept({ media });
      await a.waitFor(`window.t.connectionState() === 'connected'`);
      await b.waitFor(`window.t.connectionState() === 'connected'`);
      const callerMs = await a.eval<number>('window.t.connectedAfter(window.t.resolvedAt)');
      const calleeMs = await b.eval<number>('window.t.connectedAfter(window.t.acceptedAt)');

      const framesFrom = Date.now();
      await a.waitFor('window.t.frames().then((n) => n >= 20)', 30_000);
      await b.waitFor('window.t.frames().then((n) => n >= 20)', 30_000);
      const framesMs = Date.now() - framesFrom;
      const frames = [await a.eval<number>('window.t.frames()'), await b.eval<number>('window.t.frames()')];
      expect(await a.eval('window.t.rtc.filter((e) => e.type === "track").length')).toBe(2);
      expect(await b.eval('window.t.rtc.filter((e) => e.type === "track").length')).toBe(2);

      await a.waitFor(`window.t.labels().includes('default') && window.t.send('default', 'from ${callerKind}')`);
      await b.waitFor(`window.t.labels().includes('default') && window.t.send('default', 'from ${calleeKind}')`);
      await b.waitFor(`window.t.rtc.some((e) => e.type === 'message' && e.label === 'default' && e.data === 'from ${callerKind}')`);
      await a.waitFor(`window.t.rtc.some((e) => e.type === 'message' && e.label === 'default' && e.data === 'from ${calleeKind}')`);
      const pair = await a.eval<{ local: { address: string; candidateType: string } } | null>('window.t.pair()');

      const hungAt = Date.now();
      await a.eval('window.t.hangup()');
      await b.waitFor(`window.t.of('rtc:closed').length === 1`);
      const hangupMs = Date.now() - hungAt;
      await a.waitFor(`window.t.of('rtc:closed').length === 1`);
      const closed = { hungup: a.user_id, reason: 'hangup', call };
      expect((await b.eval<{ message: unknown }[]>('window.t.of("rtc:closed")'))[0]!.message).toEqual(closed);
      expect((await a.eval<{ message: unknown }[]>('window.t.of("rtc:closed")'))[0]!.message).toEqual(closed);
      await a.waitFor('window.t.liveTracks() === 0 && window.t.openPcs() === 0');
      await b.waitFor('window.t.liveTracks() === 0 && window.t.openPcs() === 0');
      console.info(
        `[firefox] ${callerKind}→${calleeKind}: accept→connected caller ${Math.round(callerMs)} ms, callee ${Math.round(calleeMs)} ms; ` +
          `frames decoded ${callerKind}=${frames[0]} ${calleeKind}=${frames[1]} (≥20 both within ${framesMs} ms); ` +
          `pair ${pair?.local.candidateType} ${pair?.local.address}; hang-up seen by the callee after ${hangupMs} ms`,
      );
    }, 120_000);
  }

  it('a 3-way group call, two Chromium pages and one Firefox page: video from both others on every page, messages, Firefox leaves', async () => {
    const group = `ff-mesh-${++groupCounter}`;
    const pages = [await open('chromium', 'c1', group), await open('firefox', 'ff', group), await open('chromium', 'c2', group)];
    for (const p of pages) await installGroupDriver(p);
    const media = { audio: true, video: { width: 320, height: 240, frameRate: 15 } };
    const others = (one: AnyPhone) => pages.filter((p) => p !== one);
    const started = Date.now();
    const joined = await Promise.all(pages.map((p) => joinGroupCall(p, { media })));
    expect(joined.every((j) => j.ok)).toBe(true);
    await Promise.all(pages.map((p) => waitForMesh(p, others(p), 10)));
    const meshMs = Date.now() - started;
    const frames = await Promise.all(pages.map((p) => p.eval<Record<string, number>>('window.g.frames()')));
    const ff = pages[1]!;
    expect(await ff.eval('window.g.send("default", "from firefox")')).toBe(2);
    expect(await pages[0]!.eval('window.g.send("default", "from chromium")')).toBe(2);
    for (const p of others(ff)) await p.waitFor(`window.g.received().includes(${JSON.stringify(`${ff.cid} from firefox`)})`);
    await ff.waitFor(`window.g.received().includes(${JSON.stringify(`${pages[0]!.cid} from chromium`)})`);
    const leftAt = await ff.eval<number>('window.g.leave()');
    const goneMs = await Promise.all(others(ff).map((p) => msUntilGone(p, ff.cid, leftAt)));
    for (const ms of goneMs) expect(ms).toBeLessThan(2000);
    await ff.waitFor('window.t.openPcs() === 0');
    console.info(
      `[firefox] 3-way mesh (chromium, firefox, chromium): connected with ≥10 frames from both others on every page in ${meshMs} ms ` +
        `(frames ${frames.map((f) => Object.values(f).join('+')).join(', ')}); firefox left → gone on both after ${goneMs.join('/')} ms`,
    );
  }, 180_000);
});
