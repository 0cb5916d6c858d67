/**
 * The demo's device handling in real Chromium with three fake cameras (`device-count=3`) and
 * Chromium's fake microphones and speakers: the pre-join check (camera preview, microphone
 * level, pickers that list the fake devices, the choice remembered across a reload, joining
 * with the camera off in one click), and devices mid-call (the outgoing track is replaced
 * without renegotiating, the other side keeps decoding frames; a camera that stops by itself
 * falls back to another). Screenshots of the pre-join check and the device menu at desktop
 * and phone size go to test-results/screenshots/.
 */
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeWith } from '@switchboard/test-utils';
import { newRoom, type Person } from './demo-support/person.js';
import { demoSuite } from './demo-support/suite.js';
import { PHONE, UI_TIMEOUT } from './demo-support/targets.js';

// Chromium's second fake camera sends Y16 (depth) frames, which WebRTC does not encode; the third is MJPEG.
const CAMERAS = ['fake_device_0', 'fake_device_1', 'fake_device_2'];
const SENDABLE = ['fake_device_0', 'fake_device_2'];

/** Labels of the options of a visible picker. */
const optionsOf = (page: Page, name: string): Promise<string[]> => page.getByRole('combobox', { name, exact: true }).locator('option').allTextContents();

/** The label of the track our peer connection sends for `kind` (what the other side receives). */
const sentTrack = (person: Person, kind: 'audio' | 'video'): Promise<{ id: string; label: string; enabled: boolean; live: boolean } | null> =>
  person.page.evaluate((k) => {
    const pc = (window as unknown as { __demo: { pc: RTCPeerConnection | null } }).__demo.pc;
    const track = pc?.getSenders().find((s) => s.track?.kind === k)?.track;
    return track ? { id: track.id, label: track.label, enabled: track.enabled, live: track.readyState === 'live' } : null;
  }, kind);

/** Inbound video transceivers on the receiving side: a replaced track must not add any. */
const transceivers = (person: Person): Promise<number> =>
  person.page.evaluate(() => (window as unknown as { __demo: { pc: RTCPeerConnection } }).__demo.pc.getTransceivers().length);

describeWith(['chromium', 'netns'], 'demo app (apps/demo) in Chromium: devices', () => {
  const suite = demoSuite({ label: 'demodev', args: ['--use-fake-device-for-media-stream=device-count=3'] });

  it('checks camera and microphone before joining, remembers the choice, and joins with the camera off in one click', async () => {
    const room = newRoom();
    const ada = await suite.open('Ada', `?room=${room}`);
    // The preview plays the fake camera; the meter moves with the fake microphone's beeps.
    await ada.page.waitForFunction(
      () => {
        const video = document.querySelector<HTMLVideoElement>('video[aria-label="Camera preview"]');
        return !!video && !video.paused && video.videoWidth > 0;
      },
      undefined,
      { timeout: UI_TIMEOUT, polling: 100 },
    );
    await ada.page.getByLabel('Your name').click(); // a gesture lets the meter's AudioContext run
    await ada.page.waitForFunction(() => Number(document.querySelector('[role="meter"]')?.getAttribute('aria-valuenow')) > 0, undefined, {
      timeout: UI_TIMEOUT,
      polling: 50,
    });

    expect(await optionsOf(ada.page, 'Camera')).toEqual(CAMERAS);
    expect(await optionsOf(ada.page, 'Microphone')).toEqual(expect.arrayContaining(['Fake Audio Input 1', 'Fake Audio Input 2']));
    expect(await optionsOf(ada.page, 'Speaker')).toEqual(expect.arrayContaining(['Fake Audio Output 1']));

    // Pick the second camera: the preview switches to it.
    await ada.page.getByRole('combobox', { name: 'Camera', exact: true }).selectOption({ label: 'fake_device_2' });
    await ada.page.getByRole('combobox', { name: 'Microphone', exact: true }).selectOption({ label: 'Fake Audio Input 2' });
    await ada.page.waitForFunction(
      () => {
        const stream = document.querySelector<HTMLVideoElement>('video[aria-label="Camera preview"]')?.srcObject as MediaStream | null;
        return stream?.getVideoTracks()[0]?.label === 'fake_device_2';
      },
      undefined,
      { timeout: UI_TIMEOUT, polling: 100 },
    );
    await ada.page.getByLabel('Your name').fill('Ada');
    await ada.shot('prejoin-desktop');

    // One click: the camera is off for the call.
    await ada.button('Camera on').click();
    await ada.button('Camera off').waitFor();
    await ada.page.getByText('Camera off', { exact: true }).first().waitFor();

    // Remembered across a reload.
    await ada.page.reload();
    await ada.button('Camera off').waitFor({ timeout: UI_TIMEOUT });
    await expect
      .poll(
        () =>
          ada.page
            .getByRole('combobox', { name: 'Camera', exact: true })
            .inputValue()
            .then(async (id) => ada.page.getByRole('combobox', { name: 'Camera', exact: true }).locator(`option[value="${id}"]`).textContent()),
        { timeout: UI_TIMEOUT },
      )
      .toBe('fake_device_2');

    await ada.join();
    const grace = await suite.open('Grace', `?room=${room}`);
    await grace.join();
    await ada.call('Grace');
    await grace.incoming('Ada').getByRole('button', { name: 'Accept' }).click();
    await Promise.all([ada.inCall(), grace.inCall()]);
    // Ada sends the chosen camera and microphone; the camera is off until she turns it on.
    expect(await sentTrack(ada, 'video')).toMatchObject({ label: 'fake_device_2', enabled: false });
    expect(await sentTrack(ada, 'audio')).toMatchObject({ label: 'Fake Audio Input 2', enabled: true });
    await grace.page.getByText('Ada turned their camera off').waitFor({ timeout: UI_TIMEOUT });
    const framesBefore = (await grace.videoFrames())[0] ?? 0;
    await ada.button('Start video').click();
    await grace.page.getByText('Ada turned their camera off').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await grace.framesDecoded(framesBefore + 10);
    await grace.seesVideo();
    await ada.button('Hang up').click();
    await Promise.all([ada.callEnded(), grace.callEnded()]);
  }, 150_000);

  it('switches camera and microphone mid-call by replacing the track; a camera that stops falls back to another', async () => {
    const [ada, grace] = await suite.inCall();
    await grace.framesDecoded(5);
    const before = await sentTrack(ada, 'video');
    const graceTransceivers = await transceivers(grace);

    await ada.button('Devices').click();
    const menu = ada.page.getByRole('group', { name: 'Devices' });
    await menu.waitFor();
    await expect.poll(() => optionsOf(ada.page, 'Camera'), { timeout: UI_TIMEOUT }).toEqual(CAMERAS);
    expect(await optionsOf(ada.page, 'Microphone')).toEqual(expect.arrayContaining(['Fake Audio Input 1', 'Fake Audio Input 2']));
    await ada.shot('device-picker-desktop');

    const other = SENDABLE.find((label) => label !== before?.label)!;
    await menu.getByRole('combobox', { name: 'Camera', exact: true }).selectOption({ label: other });
    await expect.poll(async () => (await sentTrack(ada, 'video'))?.label, { timeout: UI_TIMEOUT }).toBe(other);
    const after = await sentTrack(ada, 'video');
    expect(after?.id).not.toBe(before?.id);
    expect(after?.live).toBe(true);
    // replaceTrack: no new m-line, and Grace keeps decoding frames from the new camera.
    expect(await transceivers(grace)).toBe(graceTransceivers);
    const decoded = (await grace.videoFrames())[0] ?? 0;
    await grace.framesDecoded(decoded + 10);
    // The local preview shows the new camera too.
    expect(
      await ada.page.evaluate(
        () => (document.querySelector<HTMLVideoElement>('video[aria-label="Your camera"]')?.srcObject as MediaStream).getVideoTracks()[0]?.label,
      ),
    ).toBe(other);

    await menu.getByRole('combobox', { name: 'Microphone', exact: true }).selectOption({ label: 'Fake Audio Input 1' });
    await expect.poll(async () => (await sentTrack(ada, 'audio'))?.label, { timeout: UI_TIMEOUT }).toBe('Fake Audio Input 1');
    await ada.page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });

    // The camera stops by itself (as when unplugged): the demo falls back to the other one and says so.
    await ada.page.evaluate(() => {
      const track = (window as unknown as { __demo: { localStream: MediaStream } }).__demo.localStream.getVideoTracks()[0]!;
      track.stop(); // stop() fires no 'ended'; a device that goes away does
      track.dispatchEvent(new Event('ended'));
    });
    await ada.toast(/Your camera stopped working \(unplugged\?\)\. Switched to fake_device_0/);
    await expect.poll(async () => (await sentTrack(ada, 'video'))?.live, { timeout: UI_TIMEOUT }).toBe(true);
    const fallback = await sentTrack(ada, 'video');
    expect(fallback?.id).not.toBe(after?.id);
    const decodedAfter = (await grace.videoFrames())[0] ?? 0;
    await grace.framesDecoded(decodedAfter + 10);
    await ada.button('Hang up').click();
    await Promise.all([ada.callEnded(), grace.callEnded()]);
  }, 150_000);

  it('fits the pre-join check and the device menu on a phone', async () => {
    const room = newRoom();
    const ada = await suite.open('Ada', `?room=${room}`, { viewport: PHONE });
    await ada.page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('video[aria-label="Camera preview"]')?.videoWidth ?? 0) > 0, undefined, {
      timeout: UI_TIMEOUT,
      polling: 100,
    });
    await ada.page.getByLabel('Your name').fill('Ada');
    await ada.shot('prejoin-phone');
    for (const name of ['Camera on', 'Mic on']) {
      const box = await ada.button(name).boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
    }
    await ada.join();
    const grace = await suite.open('Grace', `?room=${room}`, { viewport: PHONE });
    await grace.join();
    await ada.call('Grace');
    await grace.incoming('Ada').getByRole('button', { name: 'Accept' }).click();
    await Promise.all([ada.inCall(), grace.inCall()]);
    await ada.framesDecoded(3);
    await ada.button('Devices').click();
    const menu = ada.page.getByRole('group', { name: 'Devices' });
    await expect.poll(() => optionsOf(ada.page, 'Camera'), { timeout: UI_TIMEOUT }).toEqual(CAMERAS);
    const box = await menu.boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
    await ada.shot('device-picker-phone');
    await ada.button('Hang up').click();
    await Promise.all([ada.callEnded(), grace.callEnded()]);
  }, 150_000);
});
