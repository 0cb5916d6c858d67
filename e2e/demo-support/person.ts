/** One person using the demo app in Chromium, through its controls (roles and labels). */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { DESKTOP, MOCK, SHOTS, UI_TIMEOUT, type Target } from './targets.js';

export interface OpenOptions {
  viewport?: { width: number; height: number };
  https?: boolean;
  /** A script run before the page's own (e.g. to make getUserMedia fail like a blocked camera). */
  init?: string;
}

/** getUserMedia as in a browser where the user blocked the camera (`video`) or both (`all`). */
export const blockMedia = (what: 'video' | 'all'): string => `
  const realGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    if (${what === 'all'} || (constraints && constraints.video)) throw new DOMException('Permission denied', 'NotAllowedError');
    return realGetUserMedia(constraints);
  };`;

export class Person {
  readonly problems: string[] = [];
  /** Console errors that are expected right now (e.g. Chromium logging failed WebSocket reconnects). */
  allowed: RegExp[] = [];

  private constructor(
    readonly page: Page,
    readonly name: string,
  ) {
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      // The UI-only (mock) target has no GET /v1/info: the demo falls back to location.href and Chromium logs the 404.
      if (MOCK && message.location().url.endsWith('/v1/info')) return;
      if (this.allowed.some((pattern) => pattern.test(message.text()))) return;
      this.problems.push(`console.error: ${message.text()}`);
    });
    page.on('pageerror', (error) => this.problems.push(`page error: ${error.message}`));
  }

  static async open(target: Target, name: string, query: string, options: OpenOptions = {}): Promise<Person> {
    const context = await target.context({ https: options.https ?? false });
    const page = await context.newPage();
    await page.setViewportSize(options.viewport ?? DESKTOP);
    if (options.init) await page.addInitScript({ content: options.init });
    const person = new Person(page, name);
    await page.goto(`${target.origin}/${query}`);
    return person;
  }

  async join(): Promise<void> {
    await this.page.getByLabel('Your name').fill(this.name);
    await this.page.getByRole('button', { name: 'Join room' }).click();
    await this.page.getByRole('heading', { name: 'In this room' }).waitFor({ timeout: UI_TIMEOUT });
  }

  /** The row for someone in "In this room". */
  row(name: string) {
    return this.page.getByRole('list', { name: 'In this room' }).getByRole('listitem').filter({ hasText: name });
  }

  async sees(name: string): Promise<void> {
    await this.row(name).waitFor({ timeout: UI_TIMEOUT });
  }

  async call(name: string, ringing = true): Promise<void> {
    await this.page.getByRole('button', { name: `Call ${name}` }).click();
    if (ringing) await this.page.getByRole('dialog', { name: `Calling ${name}…` }).waitFor({ timeout: UI_TIMEOUT });
  }

  incoming(from: string) {
    return this.page.getByRole('dialog', { name: from });
  }

  async toast(text: string | RegExp): Promise<void> {
    await this.page.locator('#toasts').getByText(text).first().waitFor({ timeout: UI_TIMEOUT });
  }

  async inCall(): Promise<void> {
    await this.page.getByRole('toolbar', { name: 'Call controls' }).waitFor({ timeout: UI_TIMEOUT });
    await this.page.locator('#call-state').getByText('Connected', { exact: true }).waitFor({ timeout: UI_TIMEOUT });
  }

  async callEnded(): Promise<void> {
    await this.page.getByRole('toolbar', { name: 'Call controls' }).waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
  }

  button(name: string | RegExp) {
    return this.page.getByRole('button', { name, exact: typeof name === 'string' });
  }

  /** Video frames decoded per inbound video stream of the call's RTCPeerConnection (`window.__demo.pc`). */
  async videoFrames(): Promise<number[]> {
    return this.page.evaluate(async () => {
      const pc = (window as unknown as { __demo: { pc: RTCPeerConnection | null } }).__demo.pc;
      const frames: number[] = [];
      (await pc?.getStats())?.forEach((s: { type: string; kind?: string; framesDecoded?: number }) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && (s.framesDecoded ?? 0) > 0) frames.push(s.framesDecoded!);
      });
      return frames;
    });
  }

  /** Waits until at least `streams` inbound video streams have each decoded `minimum` frames. */
  async framesDecoded(minimum: number, streams = 1): Promise<number[]> {
    const deadline = Date.now() + UI_TIMEOUT;
    for (;;) {
      const frames = await this.videoFrames();
      if (frames.length >= streams && frames.filter((n) => n >= minimum).length >= streams) return frames;
      if (Date.now() > deadline) throw new Error(`${this.name}: video frames decoded ${JSON.stringify(frames)}, wanted ${streams} stream(s) with ≥ ${minimum}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The big video on the call screen is playing real frames. */
  async seesVideo(): Promise<void> {
    await this.page.waitForFunction(
      () => {
        const video = document.querySelector<HTMLVideoElement>('video[aria-label="Remote video"]');
        return !!video && !video.paused && video.videoWidth > 0 && video.readyState >= 2 && getComputedStyle(video).visibility === 'visible';
      },
      undefined,
      { timeout: UI_TIMEOUT, polling: 100 },
    );
  }

  /** The other person's audio plays (a live audio track in a playing <audio>, no "Turn on sound" needed). */
  async hearsAudio(): Promise<void> {
    await this.page.waitForFunction(
      () => {
        const audio = document.querySelector('audio');
        const stream = audio?.srcObject as MediaStream | null | undefined;
        return !!audio && !audio.paused && !!stream?.getAudioTracks().some((t) => t.readyState === 'live');
      },
      undefined,
      { timeout: UI_TIMEOUT, polling: 100 },
    );
    expect(await this.page.getByRole('button', { name: 'Turn on sound' }).isVisible()).toBe(false);
  }

  async shot(name: string): Promise<void> {
    mkdirSync(SHOTS, { recursive: true });
    await this.page.evaluate(() => document.fonts.ready);
    await this.page.screenshot({ path: join(SHOTS, `${name}.png`), animations: 'disabled' });
  }

  async close(): Promise<void> {
    await this.page.close().catch(() => undefined);
  }
}

let roomCounter = 0;
export const newRoom = (): string => `e2e-${Date.now().toString(36)}-${roomCounter++}`;
