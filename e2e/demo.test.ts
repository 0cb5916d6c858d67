/**
 * The demo app (apps/demo) in real Chromium, driven by its controls (roles and labels) the way
 * a person would: two (or three) people join a room, see each other, call, accept, talk
 * (video frames decoded), chat both ways, mute, share the screen and stop, hang up; declined,
 * cancelled, unanswered and busy calls are explained in plain words; the page also works over
 * HTTPS with the server's self-signed certificate (wss). Screenshots of the lobby, an incoming
 * call and a call in progress, at desktop (1280×800) and phone (390×844) size, are written to
 * test-results/screenshots/.
 *
 * Chromium runs inside a loopback-only network namespace (testing-webrtc.md); the server runs
 * in this process and is forwarded into the namespace.
 *
 * DEMO_TARGET=mock runs the same flows against `vite build --mode mock` (BroadcastChannel
 * signaling, no server), for working on the UI alone.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { blockMedia, newRoom, Person, type OpenOptions } from './demo-support/person.js';
import { buildDemo, buildDemoOnce, clearFailureShots, MOCK, mockTarget, PHONE, serverTarget, UI_TIMEOUT, type Target } from './demo-support/targets.js';
import { blockUdp, createNetns, describeWith, launchChromium, unblockUdp, type Netns } from '@switchboard/test-utils';

// ------------------------------------------------------------------ the suites

describeWith(['chromium', 'netns'], 'demo app (apps/demo) in Chromium', () => {
  let ns: Netns;
  let browser: Browser;
  let target: Target;
  const people: Person[] = [];

  const open = async (name: string, query: string, options: OpenOptions = {}): Promise<Person> => {
    const person = await Person.open(target, name, query, options);
    people.push(person);
    return person;
  };

  /** Ada and Grace open the demo in one new room and join it. */
  const twoInRoom = async (): Promise<[Person, Person]> => {
    const room = newRoom();
    const ada = await open('Ada', `?room=${room}`);
    const grace = await open('Grace', `?room=${room}`);
    await ada.join();
    await grace.join();
    return [ada, grace];
  };

  beforeAll(async () => {
    clearFailureShots();
    buildDemo();
    ns = createNetns('demo');
    browser = await launchChromium({ netns: ns });
    target = MOCK ? await mockTarget(browser) : await serverTarget(browser, ns, 'off');
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') {
      for (const person of people) await person.shot(`failed-${person.name}`).catch(() => undefined);
    }
    const problems = people.flatMap((p) => p.problems.map((problem) => `${p.name}: ${problem}`));
    await Promise.all(people.splice(0).map((p) => p.close()));
    expect(problems, 'no console errors or uncaught exceptions').toEqual([]);
  });

  afterAll(async () => {
    await target?.close();
    await browser?.close();
    ns?.delete();
  });

  it('two people join a room, call, see video, chat, mute, share the screen and hang up', async () => {
    const room = newRoom();
    const ada = await open('Ada', `?room=${room}`);
    await ada.page.getByLabel('Your name').fill('Ada');
    expect(await ada.page.getByRole('textbox', { name: 'Room' }).inputValue()).toBe(room);
    await ada.shot('lobby-desktop');
    await ada.join();
    expect(new URL(ada.page.url()).searchParams.get('room')).toBe(room);
    await ada.page.getByText('Nobody else is here yet.').waitFor();
    await ada.shot('room-empty-desktop');

    const grace = await open('Grace', `#${room}`); // the hash form of a room link works too
    await grace.join();
    await ada.sees('Grace');
    await grace.sees('Ada');
    await ada.row('Grace').getByText('Available').waitFor();

    await ada.call('Grace');
    const ringing = grace.incoming('Ada');
    await ringing.waitFor({ timeout: UI_TIMEOUT });
    await ringing.getByText(/video call/).waitFor();
    await grace.shot('incoming-desktop');
    await ringing.getByRole('button', { name: 'Accept' }).click();

    await Promise.all([ada.inCall(), grace.inCall()]);
    expect((await ada.framesDecoded(5))[0]).toBeGreaterThan(0);
    expect((await grace.framesDecoded(5))[0]).toBeGreaterThan(0);
    await Promise.all([ada.seesVideo(), grace.seesVideo(), ada.hearsAudio(), grace.hearsAudio()]);
    // The quality readout fills in from getStats.
    await grace.page.locator('#quality').getByText(/ms$/).first().waitFor({ timeout: UI_TIMEOUT });

    // Chat both ways over the data channel.
    await ada.page.getByRole('textbox', { name: 'Message' }).fill('Hi Grace! Can you see me?');
    await ada.page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await grace.page.getByRole('log', { name: 'Chat messages' }).getByText('Hi Grace! Can you see me?').waitFor({ timeout: UI_TIMEOUT });
    await grace.page.getByRole('textbox', { name: 'Message' }).fill('Loud and clear!');
    await grace.button('Send').click();
    await ada.page.getByRole('log', { name: 'Chat messages' }).getByText('Loud and clear!').waitFor({ timeout: UI_TIMEOUT });
    await ada.shot('in-call-desktop');

    // Mute: the track is disabled, the button says so, and Grace sees it.
    await ada.button('Mute').click();
    await ada.button('Unmute').waitFor();
    expect(await ada.page.evaluate(() => {
      const pc = (window as unknown as { __demo: { pc: RTCPeerConnection } }).__demo.pc;
      return pc.getSenders().find((s) => s.track?.kind === 'audio')?.track?.enabled;
    })).toBe(false);
    await grace.page.locator('#remote-muted').getByText('Muted').waitFor({ timeout: UI_TIMEOUT });
    await ada.button('Unmute').click();
    await grace.page.locator('#remote-muted').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });

    // Camera off and on.
    await ada.button('Stop video').click();
    await grace.page.getByText('Ada turned their camera off').waitFor({ timeout: UI_TIMEOUT });
    await ada.button('Start video').click();
    await grace.page.getByText('Ada turned their camera off').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });

    // Screen share: a second video track (renegotiated by the SDK), shown large on Grace's side.
    const transceiversBefore = await grace.page.evaluate(() => (window as unknown as { __demo: { pc: RTCPeerConnection } }).__demo.pc.getTransceivers().length);
    await ada.button('Share screen').click();
    await ada.button('Stop sharing').waitFor({ timeout: UI_TIMEOUT });
    await grace.page.locator('#remote-sharing').getByText('Sharing screen').waitFor({ timeout: UI_TIMEOUT });
    await grace.framesDecoded(3, 2);
    expect(await grace.page.evaluate(() => (window as unknown as { __demo: { pc: RTCPeerConnection } }).__demo.pc.getTransceivers().length)).toBeGreaterThan(transceiversBefore);
    await grace.shot('screen-share-desktop');
    await ada.button('Stop sharing').click();
    await ada.button('Share screen').waitFor();
    await grace.page.locator('#remote-sharing').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });

    // Hang up: both sides leave the call screen and say why.
    await ada.button('Hang up').click();
    await Promise.all([ada.callEnded(), grace.callEnded()]);
    await ada.toast(/^Call ended/);
    await grace.toast(/^Ada hung up/);
    await grace.row('Ada').getByText('Available').waitFor({ timeout: UI_TIMEOUT });
  }, 120_000);

  it('says in plain words when a call is declined, cancelled, unanswered or the other person is busy', async () => {
    const room = newRoom();
    const query = `?room=${room}&ringTimeout=2000`;
    const ada = await open('Ada', query);
    const grace = await open('Grace', query);
    await ada.join();
    await grace.join();
    await ada.sees('Grace');

    // Declined (Escape in the incoming-call dialog declines).
    await ada.call('Grace');
    await grace.incoming('Ada').waitFor({ timeout: UI_TIMEOUT });
    await grace.page.keyboard.press('Escape');
    await ada.toast('Grace declined the call.');
    await grace.incoming('Ada').waitFor({ state: 'hidden' });
    // Keyboard users land back on the person they called, with a visible focus ring.
    await ada.page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Call Grace', undefined, { timeout: UI_TIMEOUT });
    await ada.page.keyboard.press('Shift+Tab');
    await ada.page.keyboard.press('Tab');
    await ada.shot('keyboard-focus-desktop');

    // Cancelled by the caller (Escape in "Calling…").
    await ada.call('Grace');
    await grace.incoming('Ada').waitFor({ timeout: UI_TIMEOUT });
    await ada.page.keyboard.press('Escape');
    await ada.toast('Call cancelled.');
    await grace.toast('Ada cancelled the call.');
    await grace.incoming('Ada').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });

    // Nobody answers within the ring timeout (2 s here).
    await ada.call('Grace');
    await grace.incoming('Ada').waitFor({ timeout: UI_TIMEOUT });
    await ada.toast("Grace didn't answer.");
    await grace.toast('Missed call from Ada.');
    await grace.incoming('Ada').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });

    // Busy: Linus calls Ada while Ada and Grace talk (Enter accepts: Accept has the focus).
    const linus = await open('Linus', query);
    await linus.join();
    await ada.call('Grace');
    await grace.incoming('Ada').waitFor({ timeout: UI_TIMEOUT });
    await grace.page.keyboard.press('Enter');
    await Promise.all([ada.inCall(), grace.inCall()]);
    await linus.row('Ada').getByText('In a call').waitFor({ timeout: UI_TIMEOUT });
    await linus.call('Ada', false); // "busy" may come back before "Calling…" is seen
    await linus.toast('Ada is busy in another call. Try again later.');
    await ada.toast('Linus tried to call you. They were told you are busy.');
    await grace.button('Hang up').click();
    await Promise.all([ada.callEnded(), grace.callEnded()]);
    await ada.toast(/^Grace hung up/);

    // Gone: Grace leaves the room and disappears from the list.
    await grace.page.getByRole('button', { name: 'Leave room' }).click();
    await grace.page.getByRole('button', { name: 'Join room' }).waitFor();
    await ada.row('Grace').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  }, 120_000);

  it('works on a phone-sized screen', async () => {
    const room = newRoom();
    const ada = await open('Ada', `?room=${room}`, { viewport: PHONE });
    const grace = await open('Grace', `?room=${room}`, { viewport: PHONE });
    await ada.page.getByLabel('Your name').fill('Ada');
    await ada.shot('lobby-phone');
    await ada.join();
    await grace.join();
    await ada.sees('Grace');
    await ada.shot('room-phone');

    await ada.call('Grace');
    await grace.incoming('Ada').waitFor({ timeout: UI_TIMEOUT });
    await grace.shot('incoming-phone');
    await grace.incoming('Ada').getByRole('button', { name: 'Accept' }).click();
    await Promise.all([ada.inCall(), grace.inCall()]);
    await ada.framesDecoded(5);
    await grace.framesDecoded(5);
    await Promise.all([ada.seesVideo(), grace.seesVideo()]);
    await ada.shot('in-call-phone');

    // The chat is a sheet on phones: open it, talk, close it with Escape.
    await grace.button(/^Chat/).click();
    await grace.page.getByRole('textbox', { name: 'Message' }).fill('Hello from my phone');
    await grace.page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await ada.button('Chat, 1 unread').waitFor({ timeout: UI_TIMEOUT });
    await ada.button(/^Chat/).click();
    await ada.page.getByRole('log', { name: 'Chat messages' }).getByText('Hello from my phone').waitFor();
    await ada.shot('chat-phone');
    await ada.page.keyboard.press('Escape');
    await ada.page.getByRole('log', { name: 'Chat messages' }).waitFor({ state: 'hidden' });

    // Every control fits on the screen.
    for (const name of ['Mute', 'Stop video', 'Share screen', 'Hang up']) {
      const box = await ada.button(name).boundingBox();
      expect(box, name).not.toBeNull();
      expect(box!.x).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
      expect(box!.y + box!.height).toBeLessThanOrEqual(PHONE.height);
    }
    await ada.button('Hang up').click();
    await Promise.all([ada.callEnded(), grace.callEnded()]);
  }, 120_000);

  it('offers a microphone-only or receive-only call when the camera or microphone is blocked', async () => {
    const room = newRoom();
    const grace = await open('Grace', `?room=${room}`);
    const linus = await open('Linus', `?room=${room}`, { init: blockMedia('video') });
    const mia = await open('Mia', `?room=${room}`, { init: blockMedia('all') });
    await grace.join();
    await linus.join();
    await mia.join();
    await grace.sees('Linus');
    await grace.sees('Mia');

    // Linus's camera is blocked: he answers with his microphone only, and still sees Grace.
    await grace.call('Linus');
    await linus.incoming('Grace').getByRole('button', { name: 'Accept' }).click();
    const problem = linus.page.getByRole('dialog', { name: 'Your camera and microphone are blocked' });
    await problem.waitFor({ timeout: UI_TIMEOUT });
    await linus.shot('camera-blocked-desktop');
    await problem.getByRole('button', { name: 'Use microphone only' }).click();
    await Promise.all([grace.inCall(), linus.inCall()]);
    await linus.framesDecoded(3);
    await linus.seesVideo();
    expect(await linus.button('No camera').isDisabled()).toBe(true);
    await grace.page.getByText('Linus joined without a camera').waitFor({ timeout: UI_TIMEOUT });
    await linus.button('Hang up').click();
    await Promise.all([grace.callEnded(), linus.callEnded()]);

    // Mia blocks both: she calls receive-only (no local media; the demo adds recvonly
    // transceivers and the SDK renegotiates) and still sees and hears Grace.
    await mia.call('Grace', false);
    const blocked = mia.page.getByRole('dialog', { name: 'Your camera and microphone are blocked' });
    await blocked.waitFor({ timeout: UI_TIMEOUT });
    await blocked.getByRole('button', { name: 'Continue without camera or microphone' }).click();
    await mia.page.getByRole('dialog', { name: 'Calling Grace…' }).getByText('Receive-only call').waitFor({ timeout: UI_TIMEOUT });
    await grace.incoming('Mia').getByRole('button', { name: 'Accept' }).click();
    await Promise.all([grace.inCall(), mia.inCall()]);
    await mia.framesDecoded(3);
    await mia.seesVideo();
    expect(await mia.page.evaluate(() => {
      const pc = (window as unknown as { __demo: { pc: RTCPeerConnection } }).__demo.pc;
      return pc.getReceivers().filter((r) => r.track.readyState === 'live').map((r) => r.track.kind).sort();
    })).toEqual(expect.arrayContaining(['audio', 'video']));
    await grace.page.getByText('Mia is not sending audio or video').waitFor({ timeout: UI_TIMEOUT });
    // Chat works in a receive-only call too.
    await mia.page.getByRole('textbox', { name: 'Message' }).fill('I can see you, my camera is off');
    await mia.page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await grace.page.getByRole('log', { name: 'Chat messages' }).getByText('I can see you, my camera is off').waitFor({ timeout: UI_TIMEOUT });
    await mia.button('Hang up').click();
    await Promise.all([grace.callEnded(), mia.callEnded()]);
  }, 120_000);

  it.skipIf(MOCK)('signs in with an access token instead of a guest name, and explains a bad token', async () => {
    const room = newRoom();
    const token = await target.issueToken!({ user_id: 'user-ada', name: 'Ada Lovelace' });
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
  }, 60_000);

  it.skipIf(MOCK)('shows a banner while the server is unreachable and reconnects by itself', async () => {
    const [ada, grace] = await twoInRoom();
    await ada.sees('Grace');
    // Chromium logs each failed reconnect attempt (WebSocket and the guest-token fetch); that is the browser, not the app.
    for (const person of [ada, grace]) person.allowed = [/WebSocket connection to .* failed/, /Failed to load resource: net::ERR_CONNECTION_(REFUSED|RESET|CLOSED)/];

    await target.interrupt!();
    const banner = ada.page.getByRole('alert').filter({ hasText: 'Connection to the server lost' });
    await banner.waitFor({ timeout: UI_TIMEOUT });
    await ada.shot('reconnecting-desktop');
    await target.restore!();
    await banner.waitFor({ state: 'hidden', timeout: 40_000 });
    await ada.toast('Reconnected.');
    // Still in the room, with a new connection: the others see us again, by name.
    await ada.sees('Grace');
    await grace.sees('Ada');
    await grace.page.getByRole('alert').filter({ hasText: 'Connection to the server lost' }).waitFor({ state: 'hidden', timeout: 40_000 });
    await ada.call('Grace');
    await grace.incoming('Ada').getByRole('button', { name: 'Decline' }).click();
    await ada.toast('Grace declined the call.');
  }, 120_000);

  it('shows "Reconnecting…" while the media path is down and "Connected" after the ICE restart', async () => {
    const [ada, grace] = await twoInRoom();
    await ada.call('Grace');
    await grace.incoming('Ada').getByRole('button', { name: 'Accept' }).click();
    await Promise.all([ada.inCall(), grace.inCall()]);
    await ada.framesDecoded(3);

    blockUdp(ns); // media (UDP) stops; signaling (TCP) keeps working
    try {
      await ada.page.locator('#call-state').getByText('Reconnecting…').waitFor({ timeout: 30_000 });
    } finally {
      unblockUdp(ns);
    }
    await Promise.all([ada.inCall(), grace.inCall()]);
    const before = (await ada.videoFrames())[0] ?? 0;
    await ada.framesDecoded(before + 10);
    await ada.button('Hang up').click();
    await Promise.all([ada.callEnded(), grace.callEnded()]);
  }, 120_000);
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

  it.skipIf(MOCK)('loads the page over https, connects over wss and calls', async () => {
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
  }, 90_000);
});
