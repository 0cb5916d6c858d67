/**
 * Files in the demo's chat, in real Chromium: a 20 MB file each way at the same time (picked with
 * the paper clip one way, dropped on the chat the other) over the call's file-transfer data channel
 * with the SDK's sendFile, progress seen on both sides, the SHA-256 the receiver verified equal to
 * the file's, and the download link giving the same bytes; a transfer cancelled from either side;
 * a 100 MB file goes through while the receiver's page does not freeze: traced, its main thread
 * has no task of its own over 50 ms of CPU and stays mostly idle, during the transfer and at its
 * end (wall-clock stalls are bounded too, loosely; every figure is printed).
 * Screenshots of a transfer in progress at desktop and phone size in test-results/screenshots/.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWith } from '@switchboard/test-utils';
import type { Person } from './demo-support/person.js';
import { traceMainThread, type MainThreadFigures } from './demo-support/main-thread.js';
import { demoSuite } from './demo-support/suite.js';
import { PHONE, UI_TIMEOUT } from './demo-support/targets.js';

const MB = 1024 * 1024;
const TRANSFER_TIMEOUT = 240_000;
/**
 * Wall-clock stalls allowed on the receiver (ms). Hashing and building the file all at once at the end
 * took 1-4 s; now a Worker does it as the chunks arrive. What wall-clock stalls remain are waits for a
 * core: traced on two cores shared by both pages, the server and the transfer, a 165-270 ms task of
 * the receiver's ran for 7-9 ms of CPU. So these bounds are loose, and the CPU-time bound below is the
 * one that says whether the page itself freezes.
 */
const STALL_BOUND = 1000;
/** A task of the page's own longer than this (CPU time) is a long task: the page would stutter on any machine. */
const LONG_TASK_MS = 50;
/** The stretch of the transfer traced (tracing slows the page: not all of it). */
const DURING_TRACE_MS = 6_000;
const DURING_TASK_BOUND = 1500;
/**
 * A fresh-clone CI run once saw 2.7 s of event-loop lag on the receiver here (193-244 ms in runs
 * alone) while its CPU-time figures stayed small: a wait for a core, not the page's work. The
 * per-chunk work is held by the CPU-time bounds; this one only catches a page that stops for seconds.
 */
const DURING_LAG_BOUND = 5000;

interface Watched {
  seen: Record<string, number[]>;
  /** The event loop's worst lag (a 50 ms interval timer's delay). */
  lagMs: number;
  /** The longest main-thread task ('longtask' entries: 50 ms and more). */
  longMs: number;
}

/** Records, in the page, every progress value a transfer's bar shows, the event loop's worst lag and the longest task. */
const watch = (person: Person): Promise<void> =>
  person.page.evaluate(() => {
    const seen: Record<string, number[]> = {};
    const w = window as unknown as { __files: Watched };
    w.__files = { seen, lagMs: 0, longMs: 0 };
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.__files.longMs = Math.max(w.__files.longMs, entry.duration);
    }).observe({ type: 'longtask' });
    new MutationObserver((records) => {
      for (const r of records) {
        const bar = r.target as HTMLProgressElement;
        const name = bar.closest<HTMLElement>('[data-file]')?.dataset.file;
        if (name && bar.tagName === 'PROGRESS') (seen[name] ??= []).push(bar.value);
      }
    }).observe(document.getElementById('chat-log')!, { subtree: true, attributes: true, attributeFilter: ['value'] });
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      w.__files.lagMs = Math.max(w.__files.lagMs, now - last - 50);
      last = now;
    }, 50);
  });

const progressOf = (person: Person, name: string): Promise<number[]> =>
  person.page.evaluate((n) => (window as unknown as { __files: Watched }).__files.seen[n] ?? [], name);

/** The worst lag and longest task since the last call (rounded ms), and starts over. */
const stalls = (person: Person): Promise<{ lag: number; long: number }> =>
  person.page.evaluate(() => {
    const w = (window as unknown as { __files: Watched }).__files;
    const out = { lag: Math.round(w.lagMs), long: Math.round(w.longMs) };
    w.lagMs = 0;
    w.longMs = 0;
    return out;
  });

/** The verified SHA-256 on a transfer's chat entry, once it is there. */
async function verified(person: Person, name: string): Promise<string> {
  const entry = person.page.locator(`#chat-log [data-file="${name}"][data-sha256]`);
  await entry.waitFor({ timeout: TRANSFER_TIMEOUT });
  return (await entry.getAttribute('data-sha256'))!;
}

/** Drops a file made in the page (random bytes) on the chat; resolves its SHA-256 (unless `hash` is false: '', for files that are cancelled). */
const dropGenerated = (person: Person, name: string, size: number, hash = true): Promise<string> =>
  person.page.evaluate(
    async ({ name, size, withHash }) => {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
      const hash = withHash ? [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('') : '';
      const data = new DataTransfer();
      data.items.add(new File([bytes], name, { type: 'application/octet-stream' }));
      const chat = document.getElementById('chat')!;
      chat.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      chat.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      return hash;
    },
    { name, size, withHash: hash },
  );

describeWith(['chromium', 'netns'], 'demo app (apps/demo) in Chromium: files in chat', () => {
  const suite = demoSuite({ label: 'demofiles' });

  it('sends 20 MB each way at once (progress on both sides, matching SHA-256, download link), then cancels from either side', async () => {
    const [ada, grace] = await suite.inCall();
    await Promise.all([watch(ada), watch(grace)]);
    await ada.page.getByRole('log', { name: 'Chat messages' }).waitFor();

    // Ada picks a file with the paper clip while Grace drops one on the chat: both directions share the channel.
    // Ada's comes from disk: Chromium reads the file itself (a buffer would travel base64 through the page).
    const payload = randomBytes(20 * MB);
    const sha = createHash('sha256').update(payload).digest('hex');
    const dir = mkdtempSync(join(tmpdir(), 'sb-demo-files-'));
    writeFileSync(join(dir, 'ada-20mb.bin'), payload);
    let back: string;
    try {
      [, back] = await Promise.all([ada.page.locator('#file-input').setInputFiles(join(dir, 'ada-20mb.bin')), dropGenerated(grace, 'grace-20mb.bin', 20 * MB)]);
      expect(await verified(grace, 'ada-20mb.bin')).toBe(sha);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await verified(ada, 'ada-20mb.bin')).toBe(sha);
    expect(await verified(ada, 'grace-20mb.bin')).toBe(back);
    expect(await verified(grace, 'grace-20mb.bin')).toBe(back);
    // Progress was seen on both sides, between empty and full.
    for (const [name, size] of [
      ['ada-20mb.bin', payload.length],
      ['grace-20mb.bin', 20 * MB],
    ] as const) {
      for (const person of [ada, grace]) {
        const values = await progressOf(person, name);
        expect(
          values.some((v) => v > 0 && v < size),
          `${person.name} saw progress of ${name}: ${JSON.stringify(values.slice(0, 5))}`,
        ).toBe(true);
        expect(values.at(-1)).toBe(size);
      }
    }
    // The download link gives Grace the same bytes.
    const [download] = await Promise.all([
      grace.page.waitForEvent('download', { timeout: UI_TIMEOUT }),
      grace.page.getByRole('link', { name: 'Download ada-20mb.bin' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('ada-20mb.bin');
    expect(
      createHash('sha256')
        .update(readFileSync((await download.path())!))
        .digest('hex'),
    ).toBe(sha);
    await ada.page.getByRole('link', { name: 'Download grace-20mb.bin' }).waitFor();

    // In the same call: the receiver cancels; both sides say so, and the sender's promise settles (no "Sent").
    await dropGenerated(ada, 'cancel-me.bin', 50 * MB, false);
    const incoming = grace.page.locator('#chat-log [data-file="cancel-me.bin"]');
    await grace.page.waitForFunction(
      () => (document.querySelector<HTMLProgressElement>('#chat-log [data-file="cancel-me.bin"] progress')?.value ?? 0) > 0,
      undefined,
      { timeout: UI_TIMEOUT, polling: 50 },
    );
    await incoming.getByRole('button', { name: 'Cancel cancel-me.bin' }).click();
    await incoming.getByText('Cancelled').waitFor();
    await ada.page.locator('#chat-log [data-file="cancel-me.bin"]').getByText('Cancelled').waitFor({ timeout: UI_TIMEOUT });

    // The sender cancels.
    await dropGenerated(grace, 'sender-cancels.bin', 50 * MB, false);
    const outgoing = grace.page.locator('#chat-log [data-file="sender-cancels.bin"]');
    await ada.page.waitForFunction(
      () => (document.querySelector<HTMLProgressElement>('#chat-log [data-file="sender-cancels.bin"] progress')?.value ?? 0) > 0,
      undefined,
      { timeout: UI_TIMEOUT, polling: 50 },
    );
    await outgoing.getByRole('button', { name: 'Cancel sender-cancels.bin' }).click();
    await outgoing.getByText('Cancelled').waitFor();
    await ada.page.locator('#chat-log [data-file="sender-cancels.bin"]').getByText('Grace cancelled the file').waitFor({ timeout: UI_TIMEOUT });
    expect(await ada.page.getByRole('link', { name: /Download sender-cancels/ }).count()).toBe(0);
    await ada.button('Hang up').click();
    await Promise.all([ada.callEnded(), grace.callEnded()]);
  }, 420_000);

  it('sends 100 MB while both pages keep running: the receiver never stalls (longest task, event-loop lag)', async () => {
    const [ada, grace] = await suite.inCall();
    await Promise.all([watch(ada), watch(grace)]);
    await grace.framesDecoded(3);

    const started = Date.now();
    const sha = await dropGenerated(ada, 'big-100mb.bin', 100 * MB);
    // A fifth of the way (a screenshot with a bar that shows something).
    await grace.page.waitForFunction(
      (fifth) => {
        const bar = document.querySelector<HTMLProgressElement>('#chat-log [data-file="big-100mb.bin"] progress');
        return !!bar && bar.value > fifth;
      },
      20 * MB,
      { timeout: TRANSFER_TIMEOUT, polling: 50 },
    );
    await Promise.all([ada.shot('file-transfer-desktop'), grace.shot('file-transfer-receiver-desktop')]);
    // Stalls count from here: making 100 MB of random bytes in the page and the screenshots are the test's own work.
    await Promise.all([stalls(ada), stalls(grace)]);
    // During the transfer (up to 95 MB received): both pages keep running. The receiver's main
    // thread is traced for a stretch: its own work per task (CPU time) is what would freeze it
    // anywhere; wall times here also hold the waits for a core that two pages, the server and the
    // transfer share.
    const during = await traceMainThread(grace.page, async () => undefined, DURING_TRACE_MS);
    // Stopping the trace flushes its buffers from the renderer: the test's own work, not counted.
    const [senderTraced, receiverTraced] = await Promise.all([stalls(ada), stalls(grace)]);
    await grace.page.waitForFunction(
      (most) => {
        const bar = document.querySelector<HTMLProgressElement>('#chat-log [data-file="big-100mb.bin"] progress');
        return !bar || bar.value > most;
      },
      95 * MB,
      { timeout: TRANSFER_TIMEOUT, polling: 200 },
    );
    const [sender, duringLag] = await Promise.all([stalls(ada), stalls(grace)]);
    // The end: the last chunks, the SHA-256 check and the download Blob.
    let got = '';
    const end = await traceMainThread(
      grace.page,
      async () =>
        (got = await verified(grace, 'big-100mb.bin').catch(async (error: unknown) => {
          throw new Error(`${String(error)}; progress seen by Grace: ${JSON.stringify((await progressOf(grace, 'big-100mb.bin')).slice(-5))}`);
        })),
      1_000,
    );
    expect(got).toBe(sha);
    const seconds = (Date.now() - started) / 1000;
    const endLag = await stalls(grace);
    const ms = (figures: MainThreadFigures) =>
      `longest task ${figures.longestTaskCpuMs.toFixed(1)} ms of CPU (${figures.longestTaskWallMs.toFixed(0)} ms wall), ` +
      `main thread busy ${(100 * figures.cpuShare).toFixed(1)} % of ${(figures.windowMs / 1000).toFixed(1)} s`;
    console.log(
      `100 MB through the demo: ${seconds.toFixed(1)} s (${(100 / seconds).toFixed(1)} MB/s); receiver's main thread during the transfer: ${ms(during)}; ` +
        `at the end (SHA-256 check, download Blob): ${ms(end)}; worst event-loop lag / longest task (wall) during: sender ${sender.lag} / ${sender.long} ms, ` +
        `receiver ${duringLag.lag} / ${duringLag.long} ms; receiver at the end ${endLag.lag} / ${endLag.long} ms; ` +
        `while traced: sender ${senderTraced.lag} / ${senderTraced.long} ms, receiver ${receiverTraced.lag} / ${receiverTraced.long} ms`,
    );
    // The receiver hashes and stores the chunks in a Worker as they arrive (Blob parts), so neither the
    // transfer nor its end gives the page a long task of its own (hashing 100 MB at the end took 1-4 s).
    expect(during.longestTaskCpuMs, 'receiver: longest main-thread task during the transfer (CPU ms)').toBeLessThan(LONG_TASK_MS);
    expect(end.longestTaskCpuMs, 'receiver: longest main-thread task at the end (CPU ms)').toBeLessThan(LONG_TASK_MS);
    expect(during.cpuShare, 'receiver: main thread busy during the transfer').toBeLessThan(0.25);
    // Wall-clock bounds, loose: on two shared cores the page also waits for a core.
    expect(sender.lag).toBeLessThan(2000);
    expect(endLag.long, 'receiver: longest task at the end (wall)').toBeLessThan(STALL_BOUND);
    expect(endLag.lag, 'receiver: event-loop lag at the end').toBeLessThan(STALL_BOUND);
    expect(duringLag.long, 'receiver: longest task during the transfer (wall)').toBeLessThan(DURING_TASK_BOUND);
    expect(duringLag.lag, 'receiver: event-loop lag during the transfer').toBeLessThan(DURING_LAG_BOUND);
    await ada.button('Hang up').click();
    await Promise.all([ada.callEnded(), grace.callEnded()]);
  }, 420_000);

  it('shows a transfer in progress on a phone', async () => {
    const [ada, grace] = await suite.inCall({ viewport: PHONE });
    await grace.button(/^Chat/).click();
    await ada.button(/^Chat/).click();
    await dropGenerated(grace, 'holiday-video.mp4', 50 * MB, false);
    await ada.page.waitForFunction(
      () => (document.querySelector<HTMLProgressElement>('#chat-log [data-file="holiday-video.mp4"] progress')?.value ?? 0) > 0,
      undefined,
      { timeout: UI_TIMEOUT, polling: 50 },
    );
    await ada.shot('file-transfer-phone');
    const entry = ada.page.locator('#chat-log [data-file="holiday-video.mp4"]');
    const box = await entry.boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
    await entry.getByRole('button', { name: 'Cancel holiday-video.mp4' }).click();
    await grace.page.locator('#chat-log [data-file="holiday-video.mp4"]').getByText('Cancelled').waitFor({ timeout: UI_TIMEOUT });
    await ada.button('Close chat').click(); // on a phone the chat is a sheet over the controls
    await ada.button('Hang up').click();
    await Promise.all([ada.callEnded(), grace.callEnded()]);
  }, 180_000);
});
