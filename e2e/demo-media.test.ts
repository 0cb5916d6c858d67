/**
 * The demo app on a phone-sized screen (390×844), and with the camera or microphone blocked:
 * a microphone-only or receive-only call instead. Screenshots in test-results/screenshots/.
 *
 * Chromium runs inside a loopback-only network namespace (testing-webrtc.md); the server runs
 * in this process and is forwarded into the namespace (demo-support/suite.ts).
 *
 * DEMO_TARGET=mock runs the same flows against `vite build --mode mock` (BroadcastChannel
 * signaling, no server), for working on the UI alone.
 */
import { expect, it } from 'vitest';
import { describeWith } from '@switchboard/test-utils';
import { blockMedia, newRoom } from './demo-support/person.js';
import { demoSuite } from './demo-support/suite.js';
import { PHONE, UI_TIMEOUT } from './demo-support/targets.js';

describeWith(['chromium', 'netns'], 'demo app (apps/demo) in Chromium: phone size and blocked devices', () => {
  const suite = demoSuite({ label: 'demomedia' });
  const open = suite.open;

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
  }, 180_000);

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
    expect(
      await mia.page.evaluate(() => {
        const pc = (window as unknown as { __demo: { pc: RTCPeerConnection } }).__demo.pc;
        return pc
          .getReceivers()
          .filter((r) => r.track.readyState === 'live')
          .map((r) => r.track.kind)
          .sort();
      }),
    ).toEqual(expect.arrayContaining(['audio', 'video']));
    await grace.page.getByText('Mia is not sending audio or video').waitFor({ timeout: UI_TIMEOUT });
    // Chat works in a receive-only call too.
    await mia.page.getByRole('textbox', { name: 'Message' }).fill('I can see you, my camera is off');
    await mia.page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await grace.page.getByRole('log', { name: 'Chat messages' }).getByText('I can see you, my camera is off').waitFor({ timeout: UI_TIMEOUT });
    await mia.button('Hang up').click();
    await Promise.all([grace.callEnded(), mia.callEnded()]);
  }, 180_000);
});
