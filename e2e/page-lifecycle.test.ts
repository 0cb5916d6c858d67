/**
 * The browser bundle's page lifecycle in real Chromium against the real server (resume on):
 * a page put into the back/forward cache drops its socket as a blip (close code 4005) and resumes
 * it when shown again, with the messages it missed; coming back online or visible reconnects at once
 * instead of after the backoff delay. The group sees nothing of either.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createServer, type SwitchboardServer } from '@switchboard/server';
import { describeWith, launchChromium } from '@switchboard/test-utils';

const clientDir = fileURLToPath(new URL('../packages/client/', import.meta.url));

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>switchboard page lifecycle e2e</title>
<script type="module">
  import * as SB from './switchboard.browser.js';
  window.SB = SB;
  window.events = [];
  window.record = (event) => {
    const { type, message, code = null, sender_cid = null, resumed, reason, cid, previousCid, delayMs } = event;
    window.events.push({ type, message, code, sender_cid, resumed, reason, cid, previousCid, delayMs });
  };
  window.ready = true;
</script>`;

type Shaped = Record<string, unknown>;

describeWith(['chromium'], 'page lifecycle in Chromium (browser bundle)', () => {
  let server: SwitchboardServer;
  let url: string;
  let browser: Browser;
  let staticDir: string;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(clientDir, 'scripts/bundle.mjs')], { stdio: 'inherit' });
    staticDir = mkdtempSync(join(tmpdir(), 'sb-lifecycle-e2e-'));
    copyFileSync(join(clientDir, 'dist/switchboard.browser.js'), join(staticDir, 'switchboard.browser.js'));
    writeFileSync(join(staticDir, 'index.html'), PAGE);
    server = createServer({ tls: { mode: 'off' }, logLevel: 'silent', staticDir, dataDir: join(staticDir, '.switchboard'), guests: true });
    url = (await server.listen(0, '127.0.0.1')).url;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (staticDir) rmSync(staticDir, { recursive: true, force: true });
  });

  async function guest(name: string, backoffMs = 50): Promise<{ page: Page; cid: string }> {
    const page = await (await browser.newContext()).newPage();
    page.on('pageerror', (error) => console.error(`[${name}] page error:`, error));
    await page.goto(`${url}/`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    const connected = await page.evaluate(
      async ([guestName, delay]) => {
        const w = window as unknown as Record<string, any>;
        if (delay > 1_000) Math.random = () => 0.99; // the full backoff delay, not a lucky short one
        w.sb = new w.SB.Switchboard({ url: location.origin, name: guestName, reconnect: { baseDelayMs: delay, maxDelayMs: delay } });
        const result = await w.sb.connectRealtime(w.record);
        await w.sb.joinRealtime({ group: 'lifecycle' });
        return result;
      },
      [name, backoffMs] as const,
    );
    return { page, cid: connected.cid };
  }

  const run = <T>(page: Page, script: string): Promise<T> => page.evaluate(script) as Promise<T>;
  const events = (page: Page) => run<Shaped[]>(page, 'window.events');
  const waitFor = (page: Page, match: Shaped): Promise<Shaped> =>
    page
      .waitForFunction(
        (wanted) =>
          (window as unknown as { events: Shaped[] }).events.find((event) =>
            Object.entries(wanted).every(([key, value]) => JSON.stringify(event[key]) === JSON.stringify(value)),
          ),
        match,
        { timeout: 10_000 },
      )
      .then((handle) => handle.jsonValue() as Promise<Shaped>);

  it('pagehide into the back/forward cache, then pageshow: resumed, same cid, the messages missed arrive once in order', async () => {
    const ann = await guest('Ann');
    const bob = await guest('Bob');
    await waitFor(ann.page, { type: 'notice', code: 'USER_JOINED', sender_cid: bob.cid });
    const annMark = (await events(ann.page)).length;
    await run(bob.page, `window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))`);
    expect(await run(bob.page, 'sb.connectionState')).toBe('reconnecting');
    for (let n = 1; n <= 3; n++) await run(ann.page, `sb.postRealtime({ n: ${n} }, 'lifecycle')`);
    expect(await run(bob.page, `window.events.filter((e) => e.type === 'message').length`)).toBe(0); // nothing while hidden
    await run(bob.page, `window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))`);
    const outcome = await waitFor(bob.page, { type: 'reconnect', resumed: true });
    expect(outcome).toMatchObject({ cid: bob.cid, previousCid: bob.cid });
    await run(ann.page, `sb.postRealtime({ n: 4 }, 'lifecycle')`);
    await waitFor(bob.page, { type: 'message', message: { n: 4 } });
    const received = (await events(bob.page)).filter((e) => e.type === 'message' && e.sender_cid === ann.cid).map((e) => e.message);
    expect(received).toEqual([1, 2, 3, 4].map((n) => ({ n })));
    expect(await run(bob.page, 'sb.cid')).toBe(bob.cid);
    expect((await events(ann.page)).slice(annMark).filter((e) => e.type === 'notice')).toEqual([]);
    await ann.page.context().close();
    await bob.page.context().close();
  });

  // Headless Chromium keeps every page visible (no tab switch or minimised window hides it), so the
  // document's visibilitychange is dispatched as the browser would when the tab is shown again.
  it.each([
    { name: 'online', trigger: `window.dispatchEvent(new Event('online'))` },
    { name: 'the page becoming visible again', trigger: `document.dispatchEvent(new Event('visibilitychange'))` },
  ])('$name reconnects at once rather than after the backoff delay', async ({ trigger }) => {
    const cam = await guest('Cam', 60_000);
    // The socket dies under the page (as when the network goes away); a backoff delay follows
    // (under 2 s while the session can be resumed; random() is pinned to its top, see guest()).
    await run(cam.page, `SB.switchboardInternals(sb).session.transport.abort(1006, 'network gone')`);
    await waitFor(cam.page, { type: 'error', message: 'Skapi: WebSocket unexpected close.' });
    const announced = await cam.page
      .waitForFunction(() => (window as unknown as { events: Shaped[] }).events.find((e) => e.type === 'reconnect' && typeof e['delayMs'] === 'number'), null, {
        timeout: 10_000,
      })
      .then((handle) => handle.jsonValue() as Promise<Shaped>);
    expect(announced['delayMs']).toBeGreaterThan(1_500);
    const online = Date.now();
    expect(await run(cam.page, 'document.visibilityState')).toBe('visible');
    await run(cam.page, trigger);
    const outcome = await waitFor(cam.page, { type: 'reconnect', resumed: true });
    expect(outcome).toMatchObject({ cid: cam.cid });
    expect(Date.now() - online).toBeLessThan((announced['delayMs'] as number) - 500);
    await cam.page.context().close();
  });
});
