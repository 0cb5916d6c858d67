/**
 * examples/node-bot/bot.mjs, run as its own process inside Chromium's loopback-only namespace
 * against the real server: a page calls it, gets its text echoed, sends it a file with the
 * browser build's sendFile, and gets the right SHA-256 back. SIGTERM ends the bot cleanly.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Phone } from './calls-support/call-app.js';
import { startSwitchboard, type Stack } from './calls-support/stack.js';
import {
  closeAllBrowsers,
  createNetns,
  deleteAllNetns,
  describeWith,
  forwardIntoNetns,
  launchChromium,
  startProcess,
  stopAllProcesses,
  type Forward,
  type ManagedProcess,
  type Netns,
} from '@switchboard/test-utils';

const BOT = fileURLToPath(new URL('../examples/node-bot/bot.mjs', import.meta.url));
const SIZE = 3 * 1024 * 1024 + 17;

/** The same bytes in the page and here: xorshift32, big-endian words, then the tail zero-filled. */
const PAYLOAD_JS = `(size) => {
  const data = new Uint8Array(size); const view = new DataView(data.buffer); let x = 0x9e3779b9;
  for (let i = 0; i + 4 <= size; i += 4) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; view.setUint32(i, x >>> 0); }
  return data;
}`;
const payload = new Function(`return ${PAYLOAD_JS}`)() as (size: number) => Uint8Array;

describeWith(['chromium', 'netns'], 'examples/node-bot', () => {
  let ns: Netns;
  let browser: Browser;
  let stack: Stack;
  let forward: Forward;
  let bot: ManagedProcess;
  let botCid = '';
  const group = 'bots';

  beforeAll(async () => {
    ns = createNetns('bot');
    stack = await startSwitchboard();
    forward = await forwardIntoNetns(ns, stack.port, { listenPort: 32_000 });
    bot = await startProcess(process.execPath, [BOT], {
      name: 'node-bot',
      netns: ns,
      env: { ...process.env, SWITCHBOARD_URL: forward.origin, BOT_GROUP: group, BIND_ADDRESS: '127.0.0.1' },
      waitForLine: /"ready":true/,
    });
    botCid = (JSON.parse(await bot.waitForLine(/"ready":true/)) as { cid: string }).cid;
    browser = await launchChromium({ netns: ns });
  });

  afterAll(async () => {
    await closeAllBrowsers();
    await bot?.stop();
    await forward?.close();
    await stack?.close();
    await stopAllProcesses();
    deleteAllNetns();
  });

  it('a page calls the bot: text is echoed, a file sent with sendFile comes back as the right SHA-256', async () => {
    const page = await Phone.open(browser, ns, stack.port, { name: 'visitor' }, group);
    try {
      // The bot is listed in the group like any user.
      const users = await page.eval<{ list: { cid: string }[] }>(`window.t.sb.getRealtimeUsers({ group: ${JSON.stringify(group)} })`);
      expect(users.list.map((u) => u.cid)).toContain(botCid);

      await page.call(botCid, { channels: [{ label: 'default' }, { label: 'file-transfer', protocol: 'file-transfer', ordered: true }] });
      await page.waitFor(
        `window.t.resolved && ['default', 'file-transfer'].every((l) => window.t.resolved.channels[l] && window.t.resolved.channels[l].readyState === 'open')`,
      );
      expect(await page.eval('window.t.send("default", "hello bot")')).toBe(true);
      await page.waitFor(`window.t.rtc.some((e) => e.type === 'message' && e.data === 'echo: hello bot')`);

      const sent = await page.eval<{ sha256: string; bytes: number; local: string; ms: number }>(`(async () => {
        const { sendFile, sha256Hex } = await import('/switchboard.browser.js');
        const data = (${PAYLOAD_JS})(${SIZE});
        const local = await sha256Hex(data);
        const r = window.t.resolved;
        const result = await sendFile(r.channels['file-transfer'], new Blob([data], { type: 'application/octet-stream' }), { name: 'upload.bin', pc: r.target });
        return { sha256: result.sha256, bytes: result.bytes, local, ms: result.ms };
      })()`);
      const expected = createHash('sha256').update(payload(SIZE)).digest('hex');
      expect(sent).toMatchObject({ sha256: expected, bytes: SIZE, local: expected });
      const answer = await page.waitFor(
        `(window.t.rtc.find((e) => e.type === 'message' && typeof e.data === 'string' && e.data.startsWith('{"type":"file"')) || {}).data`,
      );
      expect(JSON.parse(answer as string)).toEqual({ type: 'file', name: 'upload.bin', bytes: SIZE, sha256: expected });
      await bot.waitForLine(new RegExp(`"sha256":"${expected}"`));
      console.info(`[node-bot] Chromium → bot: ${(SIZE / 1e6 / (sent.ms / 1000)).toFixed(1)} MB/s (${sent.ms} ms incl. the bot's verification)`);

      await page.eval('window.t.hangup()');
      await bot.waitForLine(/"closed":.*"reason":"hangup"/);
    } finally {
      await page.close();
    }
  }, 90_000);

  it('a caller that offers media still gets a data-channel call (the bot answers without media)', async () => {
    const page = await Phone.open(browser, ns, stack.port, { name: 'video-visitor' }, group);
    try {
      await page.call(botCid, { media: { audio: true, video: true } });
      await page.waitFor(`window.t.resolved && window.t.resolved.channels.default && window.t.resolved.channels.default.readyState === 'open'`);
      expect(await page.eval('window.t.send("default", "with media")')).toBe(true);
      await page.waitFor(`window.t.rtc.some((e) => e.type === 'message' && e.data === 'echo: with media')`);
      await page.eval('window.t.hangup()');
    } finally {
      await page.close();
    }
  }, 60_000);

  it('SIGTERM: the bot hangs up, closes its realtime connection and exits with code 0', async () => {
    const stopped = Date.now();
    await bot.stop();
    const { code, signal } = await bot.exited;
    expect(bot.output()).toMatch(/"realtime":"closed"/);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    console.info(`[node-bot] exited ${Date.now() - stopped} ms after SIGTERM`);
  });
});
