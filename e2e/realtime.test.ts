/**
 * The browser bundle in real Chromium against the real server: two guests in two
 * pages join a group, see each other's notices, exchange a group and a private
 * message; a closeRealtime() shows as USER_LEFT, a closed tab as USER_DISCONNECTED.
 * Realtime only, so no network namespace is needed.
 */
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createServer, type SwitchboardServer } from '@switchboard/server';
import { describeWith, launchChromium } from '@switchboard/test-utils';

const SECRET = 'realtime-e2e-secret-0123456789abcdef';
const clientDir = fileURLToPath(new URL('../packages/client/', import.meta.url));

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>switchboard realtime e2e</title>
<script type="module">
  import * as SB from './switchboard.browser.js';
  window.SB = SB;
  window.events = [];
  window.record = (event) => {
    const { type, message, sender = null, sender_cid = null, sender_rid = null, code = null } = event;
    window.events.push({ type, message, sender, sender_cid, sender_rid, code });
  };
  window.ready = true;
</script>`;

interface Shaped {
  type: string;
  message: unknown;
  sender: string | null;
  sender_cid: string | null;
  sender_rid: string | null;
  code: string | null;
}

describeWith(['chromium'], 'realtime in Chromium (browser bundle)', () => {
  let server: SwitchboardServer;
  let url: string;
  let browser: Browser;
  let staticDir: string;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(clientDir, 'scripts/bundle.mjs')], { stdio: 'inherit' });
    staticDir = mkdtempSync(join(tmpdir(), 'sb-realtime-e2e-'));
    copyFileSync(join(clientDir, 'dist/switchboard.browser.js'), join(staticDir, 'switchboard.browser.js'));
    writeFileSync(join(staticDir, 'index.html'), PAGE);
    server = createServer({
      tls: { mode: 'off' },
      logLevel: 'silent',
      staticDir,
      dataDir: join(staticDir, '.switchboard'),
      auth: { secrets: [SECRET] },
    });
    url = (await server.listen(0, '127.0.0.1')).url;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (staticDir) rmSync(staticDir, { recursive: true, force: true });
  });

  async function guest(name: string): Promise<{ page: Page; cid: string; user_id: string }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error(`[${name}] page error:`, error));
    await page.goto(`${url}/`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    const connected = await page.evaluate(async (guestName) => {
      const w = window as unknown as Record<string, any>;
      w.sb = new w.SB.Switchboard({ url: location.origin, name: guestName });
      return w.sb.connectRealtime(w.record);
    }, name);
    expect(connected.user.name).toBe(name);
    return { page, cid: connected.cid, user_id: connected.user.user_id };
  }

  const call = <T>(page: Page, script: string): Promise<T> => page.evaluate(script) as Promise<T>;

  function waitForEvent(page: Page, match: Partial<Shaped>): Promise<Shaped> {
    return page
      .waitForFunction(
        (wanted) =>
          (window as unknown as { events: Record<string, unknown>[] }).events.find((event) =>
            Object.entries(wanted).every(([key, value]) => JSON.stringify(event[key]) === JSON.stringify(value)),
          ),
        match,
        { timeout: 10_000 },
      )
      .then((handle) => handle.jsonValue() as unknown as Promise<Shaped>);
  }

  const events = (page: Page) => call<Shaped[]>(page, 'window.events');

  it('two guests: notices, a group message, a private message, closeRealtime → USER_LEFT', async () => {
    const ann = await guest('Ann');
    const bob = await guest('Bob');
    expect((await events(ann.page))[0]).toEqual({
      type: 'success',
      message: 'Connected to WebSocket server.',
      sender: null,
      sender_cid: null,
      sender_rid: null,
      code: null,
    });

    expect(await call(ann.page, `sb.joinRealtime({ group: 'e2e room' })`)).toEqual({
      type: 'success',
      message: 'Joined realtime message group: "e2e room".',
    });
    await call(bob.page, `sb.joinRealtime({ group: 'e2e room' })`);
    const annSeesBob = await waitForEvent(ann.page, { type: 'notice', code: 'USER_JOINED', sender_cid: bob.cid });
    expect(annSeesBob).toMatchObject({ sender: bob.user_id, sender_rid: 'e2e room' });
    await waitForEvent(bob.page, { type: 'notice', code: 'USER_JOINED', sender_cid: bob.cid });
    await waitForEvent(ann.page, { type: 'notice', code: 'USER_JOINED', sender_cid: ann.cid });

    const sent = await call(ann.page, `sb.postRealtime({ text: 'hello room' }, 'e2e room')`);
    expect(sent).toEqual({ type: 'success', message: 'Message sent.', delivered: 2 });
    expect(await waitForEvent(bob.page, { type: 'message', sender_cid: ann.cid })).toEqual({
      type: 'message',
      message: { text: 'hello room' },
      sender: ann.user_id,
      sender_cid: ann.cid,
      sender_rid: 'e2e room',
      code: null,
    });
    await waitForEvent(ann.page, { type: 'message', sender_cid: ann.cid }); // the sender gets its broadcast too

    expect(await call(bob.page, `sb.postRealtime(0, ${JSON.stringify(ann.cid)})`)).toMatchObject({ delivered: 1 });
    expect(await waitForEvent(ann.page, { type: 'private', sender_cid: bob.cid })).toEqual({
      type: 'private',
      message: 0,
      sender: bob.user_id,
      sender_cid: bob.cid,
      sender_rid: null,
      code: null,
    });

    await call(bob.page, 'sb.closeRealtime()');
    expect((await events(bob.page)).at(-1)).toMatchObject({ type: 'close', message: 'WebSocket connection closed.' });
    await waitForEvent(ann.page, { type: 'notice', code: 'USER_LEFT', sender_cid: bob.cid });
    // A sync point: Ann's own post arrives after the server handled Bob's disconnect.
    await call(ann.page, `sb.postRealtime('sync', 'e2e room')`);
    await waitForEvent(ann.page, { type: 'message', message: 'sync' });
    expect((await events(ann.page)).filter((e) => e.code === 'USER_DISCONNECTED')).toEqual([]);

    await ann.page.context().close();
    await bob.page.context().close();
  });

  it('a closed tab shows as USER_DISCONNECTED', async () => {
    const cam = await guest('Cam');
    const dee = await guest('Dee');
    await call(cam.page, `sb.joinRealtime({ group: 'tabs' })`);
    await call(dee.page, `sb.joinRealtime({ group: 'tabs' })`);
    await waitForEvent(cam.page, { type: 'notice', code: 'USER_JOINED', sender_cid: dee.cid });
    await dee.page.close();
    const gone = await waitForEvent(cam.page, { type: 'notice', code: 'USER_DISCONNECTED', sender_cid: dee.cid });
    expect(gone).toMatchObject({ sender: dee.user_id, sender_rid: 'tabs' });
    expect((await events(cam.page)).filter((e) => e.code === 'USER_LEFT')).toEqual([]);
    const users = await call<{ list: { cid: string }[] }>(cam.page, 'sb.getRealtimeUsers()');
    expect(users.list.map((row) => row.cid)).toEqual([cam.cid]);
    await cam.page.context().close();
    await dee.page.context().close();
  });

  it('a refused token rejects connectRealtime with its code (the browser learns why from GET /v1/session)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${url}/`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    const now = Math.floor(Date.now() / 1000);
    const tryToken = (token: string) =>
      page.evaluate(async (jwt) => {
        const w = window as unknown as Record<string, any>;
        const sb = new w.SB.Switchboard({ url: location.origin, token: jwt, reconnect: { baseDelayMs: 10 } });
        const seen: string[] = [];
        try {
          await sb.connectRealtime((event: { type: string }) => seen.push(event.type));
          return { ok: true, seen };
        } catch (error) {
          const e = error as { code: string; message: string; name: string };
          return { ok: false, code: e.code, message: e.message, name: e.name, seen, state: sb.connectionState };
        }
      }, token);
    const expired = await tryToken(hs256({ sub: 'late', iat: now - 120, exp: now - 60 }));
    expect(expired).toMatchObject({ ok: false, code: 'TOKEN_EXPIRED', name: 'SwitchboardError', state: 'closed' });
    expect(expired.seen).not.toContain('reconnect');
    const forged = await tryToken(hs256({ sub: 'forger', exp: now + 60 }, 'not-the-server-secret-0123456789'));
    expect(forged).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
    const good = await tryToken(hs256({ sub: 'fine', exp: now + 60 }));
    expect(good).toMatchObject({ ok: true, seen: ['success'] });
    await context.close();
  });
});

function hs256(payload: Record<string, unknown>, secret = SECRET): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const head = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
