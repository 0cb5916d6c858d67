/**
 * The demo app's group call (apps/demo, `@switchboard/client/group`) in real Chromium, driven by
 * its controls: three people press "Join the call" and each sees the two others' tiles with
 * names and decoded video; a mute shows on the others' tiles; the one left talking is outlined
 * as the active speaker (getStats audio energy of Chromium's beeping fake microphone); chat
 * reaches everyone; a shared screen is a large tile; one leaves and is gone from the others
 * within 2 s (page clocks), and rejoins; with DEMO_GROUP_SIX=1 three more join late, to six, each
 * meshing with all present. Screenshots of three (and six) tiles at desktop and phone sizes in test-results/screenshots/
 * (group-3-desktop, group-3-phone, group-6-desktop, group-6-phone).
 *
 * One browser, one page per person, small video (`?groupVideo=`), generous waits: pages starved
 * of CPU by other suites take many seconds per step.
 */
import { expect, it, onTestFinished } from 'vitest';
import { describeWith } from '@switchboard/test-utils';
import { newRoom, type Person } from './demo-support/person.js';
import { demoSuite } from './demo-support/suite.js';
import { DESKTOP, MOCK, PHONE, UI_TIMEOUT } from './demo-support/targets.js';

/** Six pages sending and decoding video on two cores shared with other suites: a starved page can take many seconds per step. */
const WAIT = 3 * UI_TIMEOUT;
/** Three more people join late, to the cap of six (see the test). */
const SIX = process.env.DEMO_GROUP_SIX === '1';

interface TileInfo {
  name: string;
  videoWidth: number;
  muted: boolean;
  camOff: boolean;
  speaking: boolean;
}

/**
 * A small canvas as "the screen": Chromium's fake screen capture grabs the whole (virtual) display,
 * which six busy pages on two cores cannot afford; the demo's sharing path is the same either way.
 */
const FAKE_SCREEN = `
  navigator.mediaDevices.getDisplayMedia = async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 180;
    const g = canvas.getContext('2d');
    let n = 0;
    const draw = () => {
      g.fillStyle = '#24476b';
      g.fillRect(0, 0, 320, 180);
      g.fillStyle = '#fff';
      g.font = '28px sans-serif';
      g.fillText('Slide ' + (1 + (n++ % 9)), 100, 100);
    };
    draw();
    const stream = canvas.captureStream(5);
    const timer = setInterval(draw, 200);
    stream.getVideoTracks()[0].addEventListener('ended', () => clearInterval(timer));
    return stream;
  };`;

/** Epoch ms (page clock) when the tile named `name` leaves the grid. */
function watchGone(p: Person, name: string): Promise<void> {
  return p.page.evaluate((name: string) => {
    const w = window as unknown as { __goneAt?: number };
    delete w.__goneAt;
    const grid = document.getElementById('group-grid')!;
    const observer = new MutationObserver(() => {
      if (grid.querySelector(`.tile[aria-label="${name}"]`)) return;
      w.__goneAt = Date.now();
      observer.disconnect();
    });
    observer.observe(grid, { childList: true });
  }, name);
}

const grid = (p: Person) => p.page.getByRole('region', { name: 'People in the call' });

/** The person tiles (not screens) as the page shows them. */
function tiles(p: Person): Promise<TileInfo[]> {
  return p.page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('#group-grid .tile:not(.tile-screen)')].map((tile) => ({
      name: tile.getAttribute('aria-label') ?? '',
      videoWidth: tile.querySelector('video')?.videoWidth ?? 0,
      muted: tile.dataset.muted === 'true',
      camOff: tile.dataset.camOff === 'true',
      speaking: tile.dataset.speaking === 'true',
    })),
  );
}

/** Waits until the page shows exactly `names` as the others' tiles (plus its own), each playing video. */
async function seesTiles(p: Person, names: string[]): Promise<void> {
  const want = [...names].sort();
  await p.page
    .waitForFunction(
      (want: string[]) => {
        const others = [...document.querySelectorAll<HTMLElement>('#group-grid .tile:not(.tile-screen):not(.is-self)')];
        const got = others.map((t) => t.getAttribute('aria-label') ?? '').sort();
        return JSON.stringify(got) === JSON.stringify(want) && others.every((t) => (t.querySelector('video')?.videoWidth ?? 0) > 0);
      },
      want,
      { timeout: WAIT, polling: 100 },
    )
    .catch(async (error: unknown) => {
      const states = await p.page.evaluate(() => (window as unknown as { __demo: { group: { states: string[] } | null } }).__demo.group?.states);
      throw new Error(`${p.name} sees ${JSON.stringify(await tiles(p))} (${JSON.stringify(states)}), wanted ${JSON.stringify(want)} with video`, {
        cause: error,
      });
    });
}

/** Frames decoded per member connection (`window.__demo.group.pcs`). */
function framesDecoded(p: Person): Promise<number[]> {
  return p.page.evaluate(async () => {
    const group = (window as unknown as { __demo: { group: { pcs: RTCPeerConnection[] } | null } }).__demo.group;
    return Promise.all(
      (group?.pcs ?? []).map(async (pc) => {
        let frames = 0;
        (await pc.getStats()).forEach((s: { type: string; kind?: string; framesDecoded?: number }) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video') frames = Math.max(frames, s.framesDecoded ?? 0);
        });
        return frames;
      }),
    );
  });
}

async function joinCall(p: Person): Promise<void> {
  await p.button('Join the call').click();
  try {
    await grid(p)
      .getByRole('group', { name: `${p.name} (you)` })
      .waitFor({ timeout: WAIT });
    await p.page
      .locator('#call-state')
      .getByText(/^(In the call|Waiting for others…)$/)
      .waitFor({ timeout: WAIT });
  } catch (error) {
    const said = await p.page.locator('#toasts').innerText();
    throw new Error(`${p.name} did not get into the call (${JSON.stringify(said)})`, { cause: error });
  }
}

const tile = (p: Person, name: string) => grid(p).getByRole('group', { name, exact: true });

describeWith(['chromium', 'netns'], 'demo app (apps/demo) in Chromium: group call', () => {
  const suite = demoSuite({ label: 'demogroup' });

  it.skipIf(MOCK)(
    'three join through the button, see and hear each other, mute, chat, share the screen, leave and rejoin; three more join late, to six',
    async () => {
      const started = Date.now();
      const steps: string[] = [];
      let last = started;
      const step = (what: string): void => {
        steps.push(`${what} ${Date.now() - last} ms`);
        last = Date.now();
      };
      onTestFinished(() => console.log(`[demo-group] steps: ${steps.join(', ')}`));
      const query = `?room=${newRoom()}&groupVideo=160x120@10&iceTimeout=30000`;
      const names = ['Ada', 'Grace', 'Linus'];
      const people: Person[] = [];
      const openAndJoin = async (name: string): Promise<Person> => {
        const p = await suite.open(name, query, { init: FAKE_SCREEN });
        // Person.join, with room for a starved page.
        await p.page.getByLabel('Your name').fill(name);
        await p.button('Join room').click();
        await p.page.getByRole('heading', { name: 'In this room' }).waitFor({ timeout: WAIT });
        people.push(p);
        return p;
      };
      // One after another: pages opening side by side only compete for the same two cores.
      const [ada, grace, linus] = [await openAndJoin('Ada'), await openAndJoin('Grace'), await openAndJoin('Linus')] as const;
      await ada.page.getByRole('heading', { name: 'Group call' }).waitFor();
      step('three in the room');

      // Three join through the button; each sees the two others with names and video.
      // Each joiner meshes before the next: fewer handshakes at once on a starved machine.
      const inCall: Person[] = [];
      const joinAndMesh = async (p: Person): Promise<void> => {
        await joinCall(p);
        inCall.push(p);
        await Promise.all(
          inCall.map((q) =>
            seesTiles(
              q,
              inCall.filter((o) => o !== q).map((o) => o.name),
            ),
          ),
        );
      };
      for (const p of [ada, grace, linus]) await joinAndMesh(p);
      const three = [ada, grace, linus];
      await Promise.all(
        three.map((p) =>
          seesTiles(
            p,
            names.slice(0, 3).filter((n) => n !== p.name),
          ),
        ),
      );
      const meshMs = Date.now() - started;
      step('three in the call with video');
      for (const p of three) {
        expect(await tiles(p)).toHaveLength(3);
        const frames = await framesDecoded(p);
        expect(frames).toHaveLength(2);
        for (const n of frames) expect(n).toBeGreaterThan(0);
      }
      // In a group call the others are busy for 1:1 calls.
      await ada.page.getByRole('toolbar', { name: 'Call controls' }).getByRole('button', { name: 'Leave call' }).waitFor();

      // Mute on Ada: Grace and Linus see it on Ada's tile; it goes away on unmute.
      await ada.button('Mute').click();
      await Promise.all([grace, linus].map((p) => tile(p, 'Ada').getByRole('img', { name: 'Muted' }).waitFor({ timeout: WAIT })));
      expect((await tiles(grace)).find((t) => t.name === 'Linus')?.muted).toBe(false);
      await ada.button('Unmute').click();
      await Promise.all([grace, linus].map((p) => tile(p, 'Ada').getByRole('img', { name: 'Muted' }).waitFor({ state: 'hidden', timeout: WAIT })));

      step('mute');
      // Camera off on Grace: the others see the indicator and her avatar instead of video.
      await grace.button('Stop video').click();
      await tile(ada, 'Grace').getByRole('img', { name: 'Camera off' }).waitFor({ timeout: WAIT });
      await grace.button('Start video').click();
      await tile(ada, 'Grace').getByRole('img', { name: 'Camera off' }).waitFor({ state: 'hidden', timeout: WAIT });

      step('camera off');
      // Active speaker: with Grace and Linus muted, Ada's beeping microphone is the only sound.
      await Promise.all([grace, linus].map((p) => p.button('Mute').click()));
      await Promise.all(
        [grace, linus].map((p) => p.page.locator('#group-grid .tile[data-speaking="true"]').getByText('Ada', { exact: true }).waitFor({ timeout: WAIT })),
      );
      const levels = await grace.page.evaluate(() => (window as unknown as { __demo: { group: { levels: Record<string, number> } } }).__demo.group.levels);
      console.log(`[demo-group] audio levels (RMS, ~2 s) on Grace's page: ${JSON.stringify(levels)}`);
      await Promise.all([grace, linus].map((p) => p.button('Unmute').click()));

      step('active speaker');
      // Chat to everyone in the call.
      await ada.page.getByRole('textbox', { name: 'Message' }).fill('Hello, everyone!');
      await ada.page.getByRole('textbox', { name: 'Message' }).press('Enter');
      await Promise.all([grace, linus].map((p) => p.page.getByRole('log', { name: 'Chat messages' }).getByText('Hello, everyone!').waitFor({ timeout: WAIT })));

      step('chat');
      // Screen share: a large tile on the others' grids, with decoded video.
      await linus.button('Share screen').click();
      await linus.button('Stop sharing').waitFor({ timeout: WAIT });
      await Promise.all(
        [ada, grace].map((p) =>
          p.page.waitForFunction(
            () => {
              const screen = document.querySelector<HTMLElement>('#group-grid .tile-screen[aria-label="Linus’s screen"]');
              return (screen?.querySelector('video')?.videoWidth ?? 0) > 0;
            },
            undefined,
            { timeout: WAIT, polling: 100 },
          ),
        ),
      );
      await linus.button('Stop sharing').click();
      await ada.page.locator('#group-grid .tile-screen').waitFor({ state: 'detached', timeout: WAIT });

      step('screen share');
      await ada.shot('group-3-desktop');
      await ada.button('Close chat').click();
      await ada.page.setViewportSize(PHONE);
      await ada.shot('group-3-phone');
      // On a phone the controls stay reachable.
      await expect(ada.button('Leave call').isVisible()).resolves.toBe(true);
      await ada.page.setViewportSize(DESKTOP);

      step('screenshots');
      // Linus leaves: his tile is gone from the others within 2 s (page clocks: the click on his page, the removal on theirs).
      await Promise.all([ada, grace].map((p) => watchGone(p, 'Linus')));
      await linus.page.evaluate(() => {
        const w = window as unknown as { __leftAt?: number };
        document.getElementById('btn-hangup')!.addEventListener('click', () => (w.__leftAt = Date.now()), { capture: true, once: true });
      });
      await linus.button('Leave call').click();
      await Promise.all([ada, grace].map((p) => tile(p, 'Linus').waitFor({ state: 'detached', timeout: WAIT })));
      const leftAt = await linus.page.evaluate(() => (window as unknown as { __leftAt: number }).__leftAt);
      const goneMs =
        Math.max(...(await Promise.all([ada, grace].map((p) => p.page.evaluate(() => (window as unknown as { __goneAt: number }).__goneAt))))) - leftAt;
      expect(goneMs).toBeLessThan(2_000);
      await linus.callEnded();
      expect(await tiles(ada)).toHaveLength(2);

      step('leave');
      // Linus rejoins and connects to both again.
      inCall.splice(inCall.indexOf(linus), 1);
      await joinAndMesh(linus);
      step('rejoin');

      // Three more, one after another, to the cap of six: each late joiner meshes with all present.
      // Opt-in (DEMO_GROUP_SIX=1): six pages encoding five streams each take about two minutes to
      // mesh on a two-core machine, too long for every CI run; the SDK's late joiners are covered by
      // e2e/group-calls.test.ts in every run.
      if (SIX) for (const name of ['Barbara', 'Ken', 'Margaret']) await joinAndMesh(await openAndJoin(name));
      if (SIX) {
        for (const p of inCall) expect(await tiles(p)).toHaveLength(6);
        step('six in the call with video');
        await ada.shot('group-6-desktop');
        await ada.page.setViewportSize(PHONE);
        await ada.shot('group-6-phone');
        await ada.page.setViewportSize(DESKTOP);
      }

      console.log(
        `[demo-group] three in the call with video: ${meshMs} ms from the first page; a leaver gone in ${goneMs} ms; ${Date.now() - started} ms in all`,
      );
    },
    300_000,
  );
});
