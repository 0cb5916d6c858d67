/**
 * The demo app and its connections: signing in with an access token (and a bad one explained),
 * the banner while the server is unreachable and the reconnect, "Reconnecting…" while the media
 * path is down and "Connected" after the ICE restart, and the page over HTTPS with the server's
 * self-signed certificate (wss).
 *
 * Chromium runs inside a loopback-only network namespace (testing-webrtc.md); the server runs
 * in this process and is forwarded into the namespace (demo-support/suite.ts).
 *
 * DEMO_TARGET=mock runs the same flows against `vite build --mode mock` (BroadcastChannel
 * signaling, no server), for working on the UI alone.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { blockUdp, createNetns, describeWith, launchChromium, unblockUdp, type Netns } from '@switchboard/test-utils';
import { newRoom, Person } from './demo-support/person.js';
import { demoSuite } from './demo-support/suite.js';
import { buildDemoOnce, MOCK, serverTarget, UI_TIMEOUT, type Target } from './demo-support/targets.js';

describeWith(['chromium', 'netns'], 'demo app (apps/demo) in Chromium: connections', () => {
  const suite = demoSuite({ label: 'democonn' });
  const open = suite.open;
  const twoInRoom = (): Promise<[Person, Person]> => suite.twoInRoom();

  it.skipIf(MOCK)(
    'signs in with an access token instead of a guest name, and explains a bad token',
    async () => {
      const room = newRoom();
      const token = await suite.target.issueToken!({ user_id: 'user-ada', name: 'Ada Lovelace' });
      const ada = await open('Ada', `?room=${room}`);
      await ada.page.getByText('Sign in with an access token instead').click();
      await ada.page.getByRole('textbox', { name: 'Access token (JWT)' }).fill('not-a-jwt');
      // Chromium itself logs the refused upgrade and the 401; the app explains it.
      ada.allowed = [/WebSocket connection to .* failed: HTTP Authentication failed/, /status of 401 \(Unauthorized\)/];
      await ada.page.getByRole('button', { name: 'Join room' }).click();
      await ada.page.getByRole('alert').getByText('The server did not accept that token').waitFor({ timeout: UI_TIMEOUT });
      ada.allowed = [];
      await ada.page.getByRole('textbox', { name: 'Access token (JWT)' }).fill(token);
      await ada.page.getByRole('button', { name: 'Join room' }).click();
      await ada.page.getByRole('heading', { name: 'In this room' }).waitFor({ timeout: UI_TIMEOUT });
      await ada.sees('Ada Lovelace');
      const grace = await open('Grace', `?room=${room}`);
      await grace.join();
      await grace.sees('Ada Lovelace');
    },
    120_000,
  );

  it.skipIf(MOCK)(
    'shows a banner while the server is unreachable and reconnects by itself',
    async () => {
      const [ada, grace] = await twoInRoom();
      await ada.sees('Grace');
      // Chromium logs each failed reconnect attempt (WebSocket and the guest-token fetch); that is the browser, not the app.
      for (const person of [ada, grace])
        person.allowed = [/WebSocket connection to .* failed/, /Failed to load resource: net::ERR_CONNECTION_(REFUSED|RESET|CLOSED)/];

      await suite.target.interrupt!();
      const banner = ada.page.getByRole('alert').filter({ hasText: 'Connection to the server lost' });
      await banner.waitFor({ timeout: UI_TIMEOUT });
      await ada.shot('reconnecting-desktop');
      await suite.target.restore!();
      await banner.waitFor({ state: 'hidden', timeout: 40_000 });
      await ada.toast('Reconnected.');
      // Still in the room, with a new connection: the others see us again, by name.
      await ada.sees('Grace');
      await grace.sees('Ada');
      await grace.page.getByRole('alert').filter({ hasText: 'Connection to the server lost' }).waitFor({ state: 'hidden', timeout: 40_000 });
      await ada.call('Grace');
      await grace.incoming('Ada').getByRole('button', { name: 'Decline' }).click();
      await ada.toast('Grace declined the call.');
    },
    180_000,
  );

  it('shows "Reconnecting…" while the media path is down and "Connected" after the ICE restart', async () => {
    const [ada, grace] = await twoInRoom();
    await ada.call('Grace');
    await grace.incoming('Ada').getByRole('button', { name: 'Accept' }).click();
    await Promise.all([ada.inCall(), grace.inCall()]);
    await ada.framesDecoded(3);

    blockUdp(suite.ns); // media (UDP) stops; signaling (TCP) keeps working
    try {
      await ada.page.locator('#call-state').getByText('Reconnecting…').waitFor({ timeout: 30_000 });
    } finally {
      unblockUdp(suite.ns);
    }
    await Promise.all([ada.inCall(), grace.inCall()]);
    const before = (await ada.videoFrames())[0] ?? 0;
    await ada.framesDecoded(before + 10);
    await ada.button('Hang up').click();
    await Promise.all([ada.callEnded(), grace.callEnded()]);
  }, 180_000);
});

describeWith(['chromium', 'netns'], 'demo app over HTTPS (self-signed certificate, wss)', () => {
  let ns: Netns;
  let browser: Browser;
  let target: Target & { sockets: string[] };
  const people: Person[] = [];

  beforeAll(async () => {
    if (MOCK) return;
    buildDemoOnce();
    ns = createNetns('demotls');
    browser = await launchChromium({ netns: ns });
    target = await serverTarget(browser, ns, 'self-signed');
  });

  afterAll(async () => {
    await Promise.all(people.map((p) => p.close()));
    await target?.close();
    await browser?.close();
    ns?.delete();
  });

  it.skipIf(MOCK)(
    'loads the page over https, connects over wss and calls',
    async () => {
      expect(target.origin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const room = newRoom();
      const ada = await Person.open(target, 'Ada', `?room=${room}`, { https: true });
      const grace = await Person.open(target, 'Grace', `?room=${room}`, { https: true });
      people.push(ada, grace);
      expect(await ada.page.evaluate(() => [location.protocol, isSecureContext])).toEqual(['https:', true]);
      await ada.join();
      await grace.join();
      await ada.sees('Grace');
      // Invite links come from the server's GET /v1/info: the address in use comes first, for this room.
      await expect.poll(() => ada.page.locator('#invite-links code').first().textContent()).toContain(`${target.origin}/`);
      expect(await ada.page.locator('#invite-links code').first().textContent()).toContain(room);
      expect(target.sockets.length).toBeGreaterThan(0);
      for (const url of target.sockets) expect(url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/v1\/realtime/);

      await ada.call('Grace');
      await grace.incoming('Ada').getByRole('button', { name: 'Accept' }).click();
      await Promise.all([ada.inCall(), grace.inCall()]);
      await grace.framesDecoded(3);
      await ada.button('Hang up').click();
      await Promise.all([ada.callEnded(), grace.callEnded()]);
      expect([...ada.problems, ...grace.problems]).toEqual([]);
    },
    120_000,
  );
});
