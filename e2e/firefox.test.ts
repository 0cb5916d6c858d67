/**
 * Chromium ⇄ Firefox: 1:1 calls through the real server, in both directions, between Debian's
 * Chromium (Playwright) and Firefox ESR (puppeteer-core over WebDriver BiDi), both inside one
 * network namespace. Both pages run the same browser bundle and test page (CALL_APP_SCRIPT).
 * Proves video decoded both ways (getStats framesDecoded), data channel messages both ways and
 * the hang-up arriving. Figures are printed.
 */
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import type { Browser as FirefoxBrowser } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  closeAllBrowsers, closeAllFirefox, createNetns, deleteAllNetns, describeWithFirefox, launchChromium, launchFirefox,
  stopAllProcesses, type Netns,
} from '@switchboard/test-utils';
import { BUNDLE_PATH, Phone } from './calls-support/call-app.js';
import { startSwitchboard, type Stack } from './calls-support/stack.js';
import { FirefoxPhone } from './firefox-support/firefox-phone.js';

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

  const open = async (kind: 'chromium' | 'firefox', name: string, group: string): Promise<AnyPhone> => {
    const phone = kind === 'chromium'
      ? await Phone.open(chromium, ns, stack.port, { name }, group)
      : await FirefoxPhone.open(firefox, ns, stack.port, { name }, group);
    phones.push(phone);
    return phone;
  };

  for (const [callerKind, calleeKind] of [['chromium', 'firefox'], ['firefox', 'chromium']] as const) {
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
});
