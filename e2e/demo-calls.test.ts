/**
 * The demo app (apps/demo) in real Chromium, driven by its controls (roles and labels) the way
 * a person would: two (or three) people join a room, see each other, call, accept, talk
 * (video frames decoded), chat both ways, mute, share the screen and stop, hang up; declined,
 * cancelled, unanswered and busy calls are explained in plain words. Screenshots of the lobby,
 * an incoming call and a call in progress are written to test-results/screenshots/.
 *
 * Chromium runs inside a loopback-only network namespace (testing-webrtc.md); the server runs
 * in this process and is forwarded into the namespace (demo-support/suite.ts).
 *
 * DEMO_TARGET=mock runs the same flows against `vite build --mode mock` (BroadcastChannel
 * signaling, no server), for working on the UI alone.
 */
import { expect, it } from 'vitest';
import { describeWith } from '@switchboard/test-utils';
import { newRoom } from './demo-support/person.js';
import { demoSuite } from './demo-support/suite.js';
import { UI_TIMEOUT } from './demo-support/targets.js';

describeWith(['chromium', 'netns'], 'demo app (apps/demo) in Chromium: calls', () => {
  const suite = demoSuite({ label: 'democalls' });
  const open = suite.open;

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
    expect(
      await ada.page.evaluate(() => {
        const pc = (window as unknown as { __demo: { pc: RTCPeerConnection } }).__demo.pc;
        return pc.getSenders().find((s) => s.track?.kind === 'audio')?.track?.enabled;
      }),
    ).toBe(false);
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
    expect(await grace.page.evaluate(() => (window as unknown as { __demo: { pc: RTCPeerConnection } }).__demo.pc.getTransceivers().length)).toBeGreaterThan(
      transceiversBefore,
    );
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
  }, 180_000);

  it('says in plain words when a call is declined, cancelled, unanswered or the other person is busy', async () => {
    const room = newRoom();
    const query = `?room=${room}&ringTimeout=8000`; // room for a loaded machine: each step (accept with a camera to open, cancel) fits in it
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

    // Nobody answers within the ring timeout (8 s here).
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
  }, 180_000);
});
