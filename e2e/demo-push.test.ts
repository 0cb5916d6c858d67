/**
 * The demo's "Notify me of calls" in real Chromium: its service worker (apps/demo/public/sw.js,
 * served at the demo's root) shows the call push the server sent, and a tab opened from the
 * notification (`?room=…&from=notification`) joins as the remembered user, so the server rings it
 * while the call still rings (docs/api.md, "Ringing a user").
 *
 * What is real: the server, its Web Push (encrypted, VAPID-signed, to the test-utils push service
 * stand-in, which decrypts it), the service worker's push handler and notification, the page's
 * auto-join and the ring. What is not: headless Chromium's PushManager has no push service
 * (it cannot be pointed at the stand-in), so the subscription is the stand-in's and the payload
 * the stand-in decrypted is handed to the service worker with the DevTools protocol
 * (ServiceWorker.deliverPushMessage); and a click on an OS notification cannot be made
 * headless, so the tab is opened at the URL the worker's click handler opens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createServer, type SwitchboardServer } from '@switchboard/server';
import { Switchboard } from '@switchboard/client/node';
import {
  createNetns,
  describeWith,
  forwardIntoNetns,
  launchChromium,
  startPushService,
  type Forward,
  type Netns,
  type PushServiceHandle,
} from '@switchboard/test-utils';
import { buildDemoIfStale } from './demo-support/targets.js';

const DEMO_OUT = join(import.meta.dirname, '../packages/cli/dist/demo');

describeWith(['chromium', 'netns'], 'demo (apps/demo) in Chromium: notify me of calls', () => {
  let ns: Netns;
  let browser: Browser;
  let push: PushServiceHandle;
  let server: SwitchboardServer;
  let forward: Forward;
  let context: BrowserContext;
  let dataDir: string;
  let url = '';

  beforeAll(async () => {
    buildDemoIfStale();
    dataDir = mkdtempSync(join(tmpdir(), 'sb-demo-push-'));
    push = await startPushService();
    server = createServer(
      {
        host: '127.0.0.1',
        tls: { mode: 'off' },
        dataDir,
        staticDir: DEMO_OUT,
        guests: true,
        logLevel: 'warn',
        push: { retryBaseMs: 10, allowPrivateEndpoints: true },
      },
      { pushAgent: push.agent },
    );
    const { port } = await server.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${port}`;
    ns = createNetns('demopush');
    forward = await forwardIntoNetns(ns, port);
    browser = await launchChromium({ netns: ns });
    context = await browser.newContext();
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await forward?.close();
    await server?.close();
    await push?.close();
    ns?.delete();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the call push becomes a notification in the service worker; its click sends the open tab to the room, which rings and takes the call', async () => {
    const room = `push-${Date.now().toString(36)}`;
    const bobToken = await server.issueToken({ user_id: 'bob-push', name: 'Bob', ttlSeconds: 600 });
    // Bob turned notifications on earlier: his subscription is on the server, his identity in the page's storage.
    const subscription = push.subscription();
    const bobBefore = new Switchboard({ url, token: bobToken });
    await bobBefore.connectRealtime(() => undefined);
    await bobBefore.subscribeNotification(subscription.json);
    await bobBefore.closeRealtime();

    await context.grantPermissions(['notifications'], { origin: forward.origin });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${forward.origin}/?room=${room}`, { waitUntil: 'domcontentloaded' });
    await page.evaluate(([token, r]) => localStorage.setItem('switchboard-demo:notify', JSON.stringify({ token, name: 'Bob', room: r })), [
      bobToken,
      room,
    ] as const);
    const scope = await page.evaluate(async (r) => {
      await navigator.serviceWorker.register(`sw.js?room=${encodeURIComponent(r)}`, { scope: './' });
      return (await navigator.serviceWorker.ready).scope;
    }, room);
    expect(scope).toBe(`${forward.origin}/`);

    // Alice rings Bob, who has no connection open: the server pushes "Alice is calling".
    const alice = new Switchboard({ url, token: await server.issueToken({ user_id: 'alice-push', name: 'Alice' }) });
    try {
      await alice.connectRealtime(() => undefined);
      const connector = await alice.connectRTC({ user_id: 'bob-push' }, () => undefined);
      const [received] = await push.waitFor(1);
      expect(received!.payload).toMatchObject({ title: 'Alice is calling', data: { type: 'call', call: connector.call, sender_name: 'Alice' } });

      // The worker shows it (the payload as the push service decrypted it, delivered over CDP).
      const shown = await pushUntilShown(page, forward.origin, JSON.stringify(received!.payload));
      expect(shown).toEqual([
        {
          title: 'Alice is calling',
          body: 'Open the app to answer.',
          tag: `call-${connector.call}`,
          data: expect.objectContaining({ type: 'call', room }),
          requireInteraction: true,
        },
      ]);

      // The click (the worker's notificationclick handler, run on the shown notification) sends the open,
      // unconnected tab to the room "from a notification": the page joins as Bob and the call rings there.
      const worker = context.serviceWorkers().find((w) => w.url().startsWith(`${forward.origin}/sw.js`));
      expect(worker, 'the demo service worker').toBeDefined();
      const clicked = await worker!.evaluate(async () => {
        const scope = self as unknown as { registration: ServiceWorkerRegistration; onNotificationClick(n: Notification): Promise<{ url: string } | null> };
        const [notification] = await scope.registration.getNotifications();
        const client = await scope.onNotificationClick(notification!);
        return { url: client?.url ?? null, left: (await scope.registration.getNotifications()).length };
      });
      expect(clicked).toEqual({ url: `${forward.origin}/?room=${room}&from=notification`, left: 0 });
      expect(page.url()).toBe(`${forward.origin}/?room=${room}&from=notification`);
      await page.getByRole('dialog').getByText('Alice').waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: /accept/i }).click();
      const resolved = await connector.connection;
      expect(resolved.call).toBe(connector.call);
      expect(problems).toEqual([]);
    } finally {
      await alice.closeRealtime().catch(() => undefined);
      await page.close();
    }
  }, 120_000);

  it('someone who left is listed under "Recently here"; Ring rings their user, and with no tab of theirs open their browser gets "<name> is calling"', async () => {
    const room = `away-${Date.now().toString(36)}`;
    const dave = new Switchboard({ url, token: await server.issueToken({ user_id: 'dave-push', name: 'Dave', ttlSeconds: 600 }) });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    try {
      await page.goto(`${forward.origin}/?room=${room}`, { waitUntil: 'domcontentloaded' });
      await page.getByLabel('Your name').fill('Carol');
      await page.getByRole('button', { name: 'Join room' }).click();
      const here = page.getByRole('list', { name: 'In this room' });
      await here.waitFor({ timeout: 30_000 });
      // Dave (his notifications on) comes into the room and says his name as the demo does, then closes his tab.
      await dave.connectRealtime(() => undefined);
      await dave.subscribeNotification(push.subscription().json);
      await dave.joinRealtime({ group: room });
      await dave.postRealtime({ app: 'switchboard-demo', kind: 'hello', name: 'Dave', busy: false, reply: true }, room);
      await here.getByRole('listitem').filter({ hasText: 'Dave' }).waitFor({ timeout: 10_000 });
      await dave.closeRealtime();
      const away = page.getByRole('list', { name: 'Recently here' });
      await away.getByRole('listitem').filter({ hasText: 'Dave' }).waitFor({ timeout: 10_000 });
      expect(await here.getByRole('listitem').filter({ hasText: 'Dave' }).count()).toBe(0);

      const before = push.received.length;
      await page.getByRole('button', { name: 'Ring Dave' }).click();
      await page.getByRole('dialog', { name: 'Calling Dave…' }).waitFor({ timeout: 10_000 });
      const pushes = await push.waitFor(before + 1);
      expect(pushes[before]!.payload).toMatchObject({ title: 'Carol is calling', data: { type: 'call', sender_name: 'Carol' } });
      await page.getByRole('button', { name: /cancel/i }).click();

      // A message push (postRealtime's {title, body}) shows as a message notification, not a call.
      await deliverPush(page, forward.origin, JSON.stringify({ title: 'Carol', body: 'Call me when you are back' }));
      const messages = (await pushUntilShown(page, forward.origin, JSON.stringify({ title: 'Carol', body: 'Call me when you are back' }), 'message')).map(
        ({ title, body, requireInteraction }) => ({ title, body, requireInteraction }),
      );
      expect(messages).toEqual([{ title: 'Carol', body: 'Call me when you are back', requireInteraction: false }]);
      expect(problems).toEqual([]);
    } finally {
      await dave.closeRealtime().catch(() => undefined);
      await page.close();
    }
  }, 60_000);
});

/**
 * Delivers a push over DevTools until the worker shows a notification (with `tag`, if given) and
 * returns what it shows. DevTools' delivery is not a push service's: on a busy machine Chromium may
 * drop one while the worker starts, so it is made again (the same tag replaces, never adds, a
 * notification: still exactly one).
 */
async function pushUntilShown(page: Page, origin: string, data: string, tag?: string) {
  const shownWithin = (ms: number) =>
    page.evaluate(
      async ([deadline, wanted]) => {
        const registration = await navigator.serviceWorker.ready;
        for (const end = Date.now() + deadline; Date.now() < end;) {
          const list = await registration.getNotifications(wanted ? { tag: wanted } : undefined);
          if (list.length > 0)
            return list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data as unknown, requireInteraction: n.requireInteraction }));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return [];
      },
      [ms, tag ?? ''] as const,
    );
  for (let attempt = 1; attempt <= 3; attempt++) {
    await deliverPush(page, origin, data);
    const shown = await shownWithin(5_000);
    if (shown.length > 0) return shown;
    console.info(`[demo-push] delivery ${attempt} over DevTools showed nothing within 5 s`);
  }
  return [];
}

/** What DevTools' "Push" button does: a push event in the page's service worker, with `data`. */
async function deliverPush(page: Page, origin: string, data: string): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const registrationId = new Promise<string>((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', (event: { registrations: { registrationId: string; scopeURL: string }[] }) => {
      const registration = event.registrations.find((r) => r.scopeURL === `${origin}/`);
      if (registration) resolve(registration.registrationId);
    });
  });
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: await registrationId, data });
  await cdp.detach();
}
