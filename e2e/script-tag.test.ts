/**
 * A Skapi page moved over with one line: Skapi's WebRTC guide (examples/skapi-guide/guide.js,
 * the guide's code with its three obvious bugs fixed), loaded as classic scripts after
 * `<script src="<server>/switchboard.js">`, which the server serves itself, and
 * `const skapi = new Switchboard({ url })` in place of `new Skapi(...)`. Two Chromium pages
 * (fake camera and microphone, a network namespace holding only lo): Alice calls Bob when he
 * joins, Bob clicks Accept; video is decoded both ways, text crosses the data channel both ways,
 * and Alice's Reject button (the guide's only hang-up) ends the call on both sides, each side's
 * callback hearing its data channel close once and `closed` once. When Bob declines instead, the
 * guide's `await call.connection` rejects inside its async callback without an uncaught error.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createServer, type SwitchboardServer } from '@switchboard/server';
import { pollPage } from './calls-support/call-app.js';
import {
  closeAllBrowsers,
  createNetns,
  deleteAllNetns,
  describeWith,
  forwardIntoNetns,
  installWebrtcStats,
  launchChromium,
  type Forward,
  type Netns,
} from '@switchboard/test-utils';

const GUIDE_SCRIPT = readFileSync(new URL('../examples/skapi-guide/guide.js', import.meta.url), 'utf8');
const { version } = JSON.parse(readFileSync(new URL('../packages/client/package.json', import.meta.url), 'utf8')) as { version: string };

/** The guide's markup; the only Switchboard-specific lines are the script tag and the `new Switchboard` line. */
function guidePage(origin: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Skapi WebRTC guide, Switchboard script tag</title>
<script src="${origin}/switchboard.js"></script>
<script>
const skapi = new Switchboard({ url: '${origin}' });
</script>
</head>
<body>
<style>
video {
width: 320px;
height: 240px;
border: 1px solid black;
}
</style>
<video id="localVideo" autoplay muted></video>
<video id="remoteVideo" autoplay hidden></video>
<dialog id="call_dialog"></dialog>
<script src="guide.js"></script>
</body>
</html>
`;
}

interface GuideTab {
  page: Page;
  context: BrowserContext;
  errors: string[];
  /** The guide's callback logs every RTC event ("RTC Callback:", e): their types and states, in order. */
  rtcEvents: { type: string; state?: string; label?: string }[];
  messages: string[];
  sdkResponse: { status: number; version: string | null } | null;
}

describeWith(['chromium', 'netns'], "Skapi's guide page on the script-tag SDK", () => {
  let ns: Netns;
  let server: SwitchboardServer;
  let forward: Forward;
  let browser: Browser;
  let dir: string;
  const tabs: GuideTab[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-script-tag-'));
    const site = join(dir, 'site');
    ns = createNetns('script-tag');
    server = createServer({
      host: '127.0.0.1',
      tls: { mode: 'off' },
      logLevel: 'silent',
      dataDir: join(dir, 'data'),
      guests: true,
      staticDir: site,
      limits: { maxConnectionsPerAddress: 0, guestTokensPerMinute: 0 },
    });
    const { port } = await server.listen(0, '127.0.0.1');
    forward = await forwardIntoNetns(ns, port);
    // The page names the server by its full URL, as a page on another host would.
    mkdirSync(site);
    writeFileSync(join(site, 'index.html'), guidePage(forward.origin));
    writeFileSync(join(site, 'guide.js'), GUIDE_SCRIPT);
    browser = await launchChromium({ netns: ns, args: ['--autoplay-policy=no-user-gesture-required'] });
  });

  afterAll(async () => {
    for (const tab of tabs) await tab.context.close().catch(() => undefined);
    await closeAllBrowsers();
    await forward?.close();
    await server?.close();
    deleteAllNetns();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(): Promise<GuideTab> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await installWebrtcStats(page);
    const tab: GuideTab = { page, context, errors: [], rtcEvents: [], messages: [], sdkResponse: null };
    page.on('pageerror', (e) => tab.errors.push(e.message));
    page.on('response', (res) => {
      if (new URL(res.url()).pathname === '/switchboard.js')
        tab.sdkResponse = { status: res.status(), version: res.headers()['x-switchboard-version'] ?? null };
    });
    page.on('console', (msg) => {
      const text = msg.text();
      if (text.startsWith('Message received from RTC data channel:')) tab.messages.push(text);
      if (!text.startsWith('RTC Callback:')) return;
      void msg
        .args()[1]
        ?.evaluate((e: { type: string; state?: string; label?: string }) => ({
          type: e.type,
          ...(e.state === undefined ? {} : { state: e.state }),
          ...(e.label === undefined ? {} : { label: e.label }),
        }))
        .then((event) => tab.rtcEvents.push(event))
        .catch(() => undefined);
    });
    await page.goto(`${forward.origin}/`);
    tabs.push(tab);
    await pollPage(page, `skapi.cid !== null`, 10_000);
    await pollPage(page, `skapi.getRealtimeUsers({ group: 'RTCCall' }).then((r) => r.list.some((u) => u.cid === skapi.cid))`, 10_000);
    return tab;
  }

  it('video both ways, the data channel both ways, hang-up on both sides', async () => {
    // Alice is in the group before Bob joins, so Bob's USER_JOINED makes Alice call him.
    const alice = await open();
    expect(await alice.page.evaluate(`[typeof Switchboard, typeof Switchboard.SwitchboardError, skapi instanceof Switchboard]`)).toEqual([
      'function',
      'function',
      true,
    ]);
    expect(alice.sdkResponse).toEqual({ status: 200, version });
    const bob = await open();
    await pollPage(bob.page, `call_dialog.open && call_dialog.textContent.includes('Incoming call')`, 15_000);
    await pollPage(alice.page, `call_dialog.open && call_dialog.textContent.includes('Outgoing call')`, 5_000);
    const accepted = Date.now();
    await bob.page.getByText('Accept').click();

    for (const tab of [alice, bob]) {
      await pollPage(tab.page, `rtcConnection && document.getElementById('localVideo').srcObject === rtcConnection.media`, 15_000);
      await pollPage(tab.page, `rtcConnection.target.connectionState === 'connected'`, 15_000);
    }
    const connectedMs = Date.now() - accepted;
    for (const tab of [alice, bob]) {
      await pollPage(tab.page, `window.__sbStats.framesDecoded(rtcConnection.target).then((n) => n >= 10)`, 15_000);
      await pollPage(tab.page, `!remoteVideo.hidden && remoteVideo.videoWidth > 0 && remoteVideo.srcObject.getVideoTracks().length === 1`, 10_000);
    }
    const frames = await Promise.all([alice, bob].map((t) => t.page.evaluate<number>('window.__sbStats.framesDecoded(rtcConnection.target)')));

    for (const [from, to, text] of [
      [alice, bob, 'hello from alice'],
      [bob, alice, 'hello from bob'],
    ] as const) {
      await pollPage(from.page, `rtcConnection.channels.default?.readyState === 'open'`, 10_000);
      await from.page.evaluate(`rtcConnection.channels.default.send(${JSON.stringify(text)})`);
      await expect.poll(() => to.messages, { timeout: 10_000 }).toContain(`Message received from RTC data channel: ${text}`);
    }

    for (const tab of [alice, bob]) await tab.page.evaluate('window.channelBeforeHangup = rtcConnection.channels.default');
    // The guide's only hang-up control: the Reject button left in Alice's outgoing-call dialog.
    await alice.page.getByText('Reject').click();
    for (const tab of [alice, bob]) {
      await pollPage(tab.page, `call === null && remoteVideo.hidden && rtcConnection.target.connectionState === 'closed'`, 10_000);
      await expect.poll(() => tab.rtcEvents.some((e) => e.type === 'connectionstatechange' && e.state === 'closed'), { timeout: 5_000 }).toBe(true);
      await pollPage(tab.page, `window.channelBeforeHangup.readyState === 'closed'`, 5_000);
    }
    // Each side's callback hears its one data channel close once, and `closed` once, after it.
    for (const tab of [alice, bob]) {
      await expect.poll(() => tab.rtcEvents.filter((e) => e.type === 'close').length, { timeout: 5_000 }).toBe(1);
      await tab.page.evaluate('new Promise((resolve) => setTimeout(resolve, 500))'); // late duplicates would show up here
      const ending = tab.rtcEvents.filter((e) => e.type === 'close' || (e.type === 'connectionstatechange' && e.state === 'closed'));
      expect(ending).toEqual([
        { type: 'close', label: 'default' },
        { type: 'connectionstatechange', state: 'closed' },
      ]);
    }
    const closes = [alice, bob].map((t) => t.rtcEvents.filter((e) => e.type === 'close').length);
    console.info(
      `[script-tag] /switchboard.js ${version}: Accept clicked → both seen connected ${connectedMs} ms later (polled); frames decoded alice=${frames[0]} bob=${frames[1]}; ` +
        `data channel both ways; hang-up closed both (data channel close events alice=${closes[0]}, bob=${closes[1]})`,
    );
    // The guide's track handler sets srcObject and calls play() once per track (audio, then video): the
    // second load interrupts the first play(), an unhandled rejection of the guide's own code.
    const ours = [...alice.errors, ...bob.errors].filter((m) => !m.includes('play() request was interrupted by a new load request'));
    expect(ours).toEqual([]);
  }, 90_000);

  it("Bob declines: Alice's `await call.connection` (inside the guide's async callback) rejects with no uncaught error; her callback gets `closed`", async () => {
    for (const tab of tabs.splice(0)) await tab.context.close();
    const alice = await open();
    const bob = await open();
    await pollPage(bob.page, `call_dialog.open && call_dialog.textContent.includes('Incoming call')`, 15_000);
    // The invite goes out before Alice's camera opens, so Bob may ring before her `call = await connectRTC(…)` returns.
    await pollPage(alice.page, `call !== null && call !== undefined`, 15_000);
    // Observe the guide's `call.connection` from outside (`; 0`: evaluate must not wait for the promise).
    await alice.page.evaluate(`window.outcome = null; call.connection.then(() => (window.outcome = 'connected'), (e) => (window.outcome = e.code)); 0`);
    await bob.page.getByText('Reject').click();
    await pollPage(alice.page, `window.outcome !== null`, 10_000);
    expect(await alice.page.evaluate('window.outcome')).toBe('RTC_REJECTED');
    await expect.poll(() => alice.rtcEvents.filter((e) => e.type === 'connectionstatechange' && e.state === 'closed').length, { timeout: 5_000 }).toBe(1);
    await alice.page.evaluate('new Promise((resolve) => setTimeout(resolve, 500))');
    expect(await alice.page.evaluate('remoteVideo.hidden')).toBe(true);
    expect([...alice.errors, ...bob.errors]).toEqual([]);
  }, 60_000);
});
