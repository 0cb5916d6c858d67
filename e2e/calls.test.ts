/**
 * Calls end to end: Chromium pages (fake camera/microphone) inside network namespaces, the
 * Switchboard browser bundle (packages/client/dist/switchboard.browser.js), and the real
 * server (packages/server) running in this process, reached through per-page forwarders.
 * Each scenario is its own test. Numbers (connect time, frames decoded) are printed.
 * Calls across broken or relayed network paths: calls-network.test.ts.
 */
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { BUNDLE_PATH, Phone, pollPage } from './calls-support/call-app.js';
import { startSwitchboard, type Stack } from './calls-support/stack.js';
import {
  closeAllBrowsers, createNetns, deleteAllNetns, describeWith, installWebrtcStats, launchChromium, stopAllProcesses,
  forwardIntoNetns, type Netns,
} from '@switchboard/test-utils';

const phones: Phone[] = [];
let groupCounter = 0;

describeWith(['chromium', 'netns'], 'calls through the real server', () => {
  let ns: Netns;
  let browser: Browser;
  let stack: Stack;

  beforeAll(async () => {
    readFileSync(BUNDLE_PATH); // built by `npm run build -w @switchboard/client`
    ns = createNetns('calls');
    stack = await startSwitchboard();
    browser = await launchChromium({ netns: ns, args: ['--autoplay-policy=no-user-gesture-required'] });
  });

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
  });

  afterAll(async () => {
    await closeAllBrowsers();
    await stack?.close();
    await stopAllProcesses();
    deleteAllNetns();
  });

  async function two(options: { a?: Record<string, unknown>; b?: Record<string, unknown>; on?: Stack } = {}): Promise<[Phone, Phone]> {
    const group = `calls-${++groupCounter}`;
    const port = (options.on ?? stack).port;
    const a = await Phone.open(browser, ns, port, { name: 'alice', ...options.a }, group);
    const b = await Phone.open(browser, ns, port, { name: 'bob', ...options.b }, group);
    phones.push(a, b);
    return [a, b];
  }

  /** a calls b with media both ways; resolves when both are connected. */
  async function connected(a: Phone, b: Phone, media = { audio: true, video: true }): Promise<{ call: string; callerMs: number; calleeMs: number }> {
    const call = await a.call(b.cid, { media });
    await b.waitFor(`window.t.incoming && window.t.incoming.call === ${JSON.stringify(call)}`);
    await b.accept({ media });
    await a.waitFor(`window.t.connectionState() === 'connected'`);
    await b.waitFor(`window.t.connectionState() === 'connected'`);
    const callerMs = await a.eval<number>('window.t.connectedAfter(window.t.resolvedAt)');
    const calleeMs = await b.eval<number>('window.t.connectedAfter(window.t.acceptedAt)');
    return { call, callerMs, calleeMs };
  }

  it('guide flow: video call, tracks both ways, labelled reliable data channel, hang-up ends both once', async () => {
    const [a, b] = await two();
    const { call, callerMs, calleeMs } = await connected(a, b);
    const incoming = (await b.eval<Record<string, unknown>[]>('window.t.of("rtc:incoming")'))[0];
    expect(incoming).toMatchObject({
      sender: a.user_id, sender_cid: a.cid, sender_rid: null, code: null, call, sender_name: 'alice',
      media: { audio: true, video: true }, hasConnectRTC: true, hasHangup: true,
    });
    const framesFrom = Date.now();
    await a.waitFor(`window.t.frames().then((n) => n >= 20)`);
    await b.waitFor(`window.t.frames().then((n) => n >= 20)`);
    const framesMs = Date.now() - framesFrom;
    const frames = [await a.eval<number>('window.t.frames()'), await b.eval<number>('window.t.frames()')];
    await b.waitFor(`window.t.labels().includes('default')`);
    expect(await a.eval('window.t.send("default", "hello")')).toBe(true);
    await b.waitFor(`window.t.rtc.some((e) => e.type === 'message' && e.label === 'default' && e.data === 'hello')`);
    expect(await a.eval('window.t.rtc.filter((e) => e.type === "track").length')).toBe(2);
    expect(await b.eval('window.t.rtc.filter((e) => e.type === "track").length')).toBe(2);
    const pair = await a.eval<{ local: { address: string } } | null>('window.t.pair()');
    console.info(`[calls] guide flow: accept→connected caller ${Math.round(callerMs)} ms, callee ${Math.round(calleeMs)} ms; frames decoded a=${frames[0]} b=${frames[1]} ${framesMs} ms after connected; pair ${pair?.local.address}`);

    await a.eval('window.t.hangup()');
    await b.waitFor(`window.t.of('rtc:closed').length === 1`);
    await a.waitFor(`window.t.of('rtc:closed').length === 1`);
    expect((await b.eval<{ message: unknown }[]>('window.t.of("rtc:closed")'))[0]!.message).toEqual({ hungup: a.user_id, reason: 'hangup', call });
    expect((await a.eval<{ message: unknown }[]>('window.t.of("rtc:closed")'))[0]!.message).toEqual({ hungup: a.user_id, reason: 'hangup', call });
    await a.waitFor(`window.t.rtc.some((e) => e.type === 'connectionstatechange' && e.state === 'closed')`);
    await b.waitFor(`window.t.rtc.some((e) => e.type === 'connectionstatechange' && e.state === 'closed')`);
    await a.waitFor('window.t.liveTracks() === 0 && window.t.openPcs() === 0');
    await b.waitFor('window.t.liveTracks() === 0 && window.t.openPcs() === 0');
  }, 60_000);

  for (const outcome of ['rejected', 'busy'] as const) {
    it(`${outcome}: the caller's connection rejects with ${outcome === 'busy' ? 'RTC_BUSY' : 'RTC_REJECTED'}`, async () => {
      const [a, b] = await two();
      const call = await a.call(b.cid, { media: { video: true } });
      await b.waitFor('window.t.incoming !== null');
      await b.reject(outcome === 'busy' ? 'busy' : undefined);
      await a.waitFor('window.t.callError !== null');
      expect(await a.eval('window.t.callError')).toMatchObject({ code: outcome === 'busy' ? 'RTC_BUSY' : 'RTC_REJECTED' });
      await a.waitFor(`window.t.of('rtc:closed').length === 1`);
      expect((await a.eval<{ message: unknown }[]>('window.t.of("rtc:closed")'))[0]!.message).toEqual({ hungup: b.user_id, reason: outcome, call });
      expect(await b.eval('window.t.of("rtc:closed").length')).toBe(1);
      await a.waitFor('window.t.liveTracks() === 0 && window.t.openPcs() === 0');
    }, 60_000);
  }

  it('cancel: the caller hangs up while ringing → RTC_CANCELLED; the callee sees rtc:closed and cannot accept', async () => {
    const [a, b] = await two();
    await a.call(b.cid, { media: { audio: true } });
    await b.waitFor('window.t.incoming !== null');
    await a.eval('window.t.hangup()');
    await a.waitFor('window.t.callError !== null');
    expect(await a.eval('window.t.callError')).toMatchObject({ code: 'RTC_CANCELLED' });
    await b.waitFor(`window.t.of('rtc:closed').length === 1`);
    expect((await b.eval<{ message: { reason: string } }[]>('window.t.of("rtc:closed")'))[0]!.message.reason).toBe('cancelled');
    expect(await b.eval('window.t.accept({})')).toBeNull();
  }, 60_000);

  it('timeout: nobody answers → RTC_TIMEOUT, and the callee stops ringing', async () => {
    const [a, b] = await two({ a: { ringTimeoutMs: 1500 } });
    const started = Date.now();
    await a.call(b.cid, {});
    await b.waitFor('window.t.incoming !== null');
    await a.waitFor('window.t.callError !== null', 10_000);
    expect(await a.eval('window.t.callError')).toMatchObject({ code: 'RTC_TIMEOUT' });
    await b.waitFor(`window.t.of('rtc:closed').length === 1`);
    expect((await b.eval<{ message: { reason: string } }[]>('window.t.of("rtc:closed")'))[0]!.message.reason).toBe('timeout');
    console.info(`[calls] timeout: RTC_TIMEOUT after ${Date.now() - started} ms (ringTimeoutMs 1500)`);
  }, 60_000);

  it('glare: two users calling each other at the same moment end up in exactly one call', async () => {
    const [a, b] = await two();
    const [ca, cb] = await Promise.all([
      a.call(b.cid, { media: { video: true } }),
      b.call(a.cid, { media: { video: true } }),
    ]);
    await a.waitFor(`window.t.connectionState() === 'connected'`);
    await b.waitFor(`window.t.connectionState() === 'connected'`);
    const ids = [await a.eval<string>('window.t.resolved.call'), await b.eval<string>('window.t.resolved.call')];
    expect(ids[0]).toBe(ids[1]);
    expect([ca, cb]).toContain(ids[0]);
    // ca !== cb: both invites crossed (glare rule); equal: b saw a's invite first and connectRTC accepted it.
    console.info(`[calls] glare: ${ca !== cb ? 'the two invites crossed; the smaller cid\'s call was kept' : "b's connectRTC accepted a's ringing call"}`);
    expect(await a.eval('window.t.callError')).toBeNull();
    expect(await b.eval('window.t.callError')).toBeNull();
    expect(await a.eval('window.t.of("rtc:incoming").length + window.t.of("rtc:closed").length')).toBe(0);
    expect(await b.eval('window.t.of("rtc:incoming").length + window.t.of("rtc:closed").length')).toBe(0);
    await a.waitFor('window.t.frames().then((n) => n >= 5)');
    await b.waitFor('window.t.frames().then((n) => n >= 5)');
  }, 60_000);

  it('screen share mid-call from the callee: renegotiated, new track at the caller, no new rtc:incoming', async () => {
    const [a, b] = await two();
    await connected(a, b, { audio: true, video: false });
    await b.eval('window.t.shareScreen()');
    await a.waitFor(`window.t.rtc.filter((e) => e.type === 'track').length === 2`);
    await a.waitFor('window.t.frames().then((n) => n >= 10)');
    // The caller shares too.
    await a.eval('window.t.shareScreen()');
    await b.waitFor(`window.t.rtc.filter((e) => e.type === 'track').length === 2`);
    await b.waitFor('window.t.frames().then((n) => n >= 10)');
    expect(await b.eval('window.t.of("rtc:incoming").length')).toBe(1);
    expect(await a.eval('window.t.of("rtc:incoming").length')).toBe(0);
    console.info(`[calls] screen share: frames at caller ${await a.eval('window.t.frames()')}, at callee ${await b.eval('window.t.frames()')}`);
  }, 60_000);

  it("the callee's page closes: the caller's call ends as peer_gone", async () => {
    const [a, b] = await two();
    const { call } = await connected(a, b, { audio: false, video: false });
    const started = Date.now();
    await b.page.close();
    await a.waitFor(`window.t.of('rtc:closed').length === 1`, 15_000);
    const closed = (await a.eval<{ message: { reason: string; call: string } }[]>('window.t.of("rtc:closed")'))[0]!;
    expect(closed.message).toMatchObject({ reason: 'peer_gone', call });
    console.info(`[calls] peer page closed → caller rtc:closed (peer_gone) after ${Date.now() - started} ms`);
  }, 60_000);

  it('calls between two connections of the same user work', async () => {
    const token = await stack.server.issueToken({ user_id: 'same-user', name: 'Sam' });
    const [a, b] = await two({ a: { token }, b: { token } });
    expect(a.user_id).toBe(b.user_id);
    await connected(a, b, { audio: false, video: true });
    await b.waitFor('window.t.frames().then((n) => n >= 5)');
  }, 60_000);

  it('the realtime connection is cut for 3 s mid-call: it resumes with the same cid, the call keeps decoding, what was sent meanwhile arrives after, once', async () => {
    // This measures the resume, not the backoff policy: b retries at most 1 s apart (the default
    // full-jitter backoff may wait up to 8 s after a 3 s outage), and its post queued during the
    // cut may wait 30 s (a request made while there is no connection times out after requestTimeoutMs).
    const [a, b] = await two({ b: { reconnect: { baseDelayMs: 250, maxDelayMs: 1_000 }, requestTimeoutMs: 30_000 } });
    await connected(a, b, { audio: false, video: true });
    await b.waitFor('window.t.frames().then((n) => n >= 10)');
    await b.waitFor(`window.t.labels().includes('default')`);
    await a.eval('window.__mark = window.t.rt.length, true');
    await b.cut();
    const cutAt = Date.now();
    await b.waitFor(`window.t.sb.connectionState === 'reconnecting'`, 10_000);
    const framesAtCut = await b.eval<number>('window.t.frames()');
    // While b is away: a private message and a group message to it, and a post of its own (queued).
    await a.eval(`window.t.sb.postRealtime('private in the gap', ${JSON.stringify(b.cid)})`);
    await a.eval(`window.t.sb.postRealtime({ gap: 1 }, ${JSON.stringify(b.group)})`);
    await b.eval(`window.__queued = window.t.sb.postRealtime({ fromB: 1 }, ${JSON.stringify(b.group)}).then(() => 'acked', (e) => e.code), true`);
    // The media path does not go through the server: b keeps decoding, and the data channel carries messages.
    await b.waitFor(`window.t.frames().then((n) => n >= ${framesAtCut + 20})`, 15_000);
    expect(await a.eval('window.t.send("default", "during the cut")')).toBe(true);
    await b.waitFor(`window.t.rtc.some((e) => e.type === 'message' && e.data === 'during the cut')`);
    await waitUntil(cutAt + 3_000);
    await b.restore();
    const restoredAt = Date.now();
    await b.waitFor(`window.t.rt.some((e) => e.type === 'reconnect' && 'resumed' in e)`, 20_000);
    const resumedMs = Date.now() - restoredAt;
    const reconnects = await b.eval<Array<Record<string, unknown>>>(`window.t.rt.filter((e) => e.type === 'reconnect' && 'resumed' in e)`);
    expect(reconnects).toEqual([expect.objectContaining({ resumed: true, cid: b.cid, previousCid: b.cid })]);
    expect(await b.eval('window.t.sb.cid')).toBe(b.cid);
    // What was sent to b meanwhile arrived, once; b's queued post went out after the resume, once.
    await b.waitFor(`window.t.rt.some((e) => e.type === 'private' && e.message === 'private in the gap')`, 5_000);
    await b.waitFor(`window.t.rt.some((e) => e.type === 'message' && e.message && e.message.gap === 1)`, 5_000);
    expect(await b.eval('window.__queued')).toBe('acked');
    await a.waitFor(`window.t.rt.some((e) => e.type === 'message' && e.message && e.message.fromB === 1)`, 5_000);
    // Markers sent after: a duplicate (replayed twice, or b's post run twice) would arrive before them.
    await a.eval(`window.t.sb.postRealtime('marker', ${JSON.stringify(b.cid)})`);
    await b.waitFor(`window.t.rt.some((e) => e.type === 'private' && e.message === 'marker')`, 5_000);
    await b.eval(`window.t.sb.postRealtime('marker', ${JSON.stringify(a.cid)})`);
    await a.waitFor(`window.t.rt.some((e) => e.type === 'private' && e.message === 'marker')`, 5_000);
    expect(await b.eval(`window.t.rt.filter((e) => e.message === 'private in the gap' || (e.message && e.message.gap === 1)).length`)).toBe(2);
    expect(await a.eval(`window.t.rt.filter((e) => e.message && e.message.fromB === 1).length`)).toBe(1);
    // a's group heard nothing; the call never ended, and still decodes on both sides.
    expect(await a.eval(`window.t.rt.slice(window.__mark).filter((e) => e.type === 'notice').length`)).toBe(0);
    for (const p of [a, b]) expect(await p.eval('window.t.of("rtc:closed").length')).toBe(0);
    expect(await a.eval('window.t.connectionState()')).toBe('connected');
    const framesAfter = await b.eval<number>('window.t.frames()');
    await b.waitFor(`window.t.frames().then((n) => n >= ${framesAfter + 10})`, 10_000);
    console.info(`[calls] WebSocket cut for ${restoredAt - cutAt} ms mid-call: resumed ${resumedMs} ms after the path came back, same cid; b decoded ${framesAfter - framesAtCut} frames from the cut to the resume; 2 frames replayed, the queued post acked once`);
    await a.eval('window.t.hangup()');
    await b.waitFor(`window.t.of('rtc:closed').length === 1`, 5_000);
    expect((await b.eval<{ message: { reason: string } }[]>('window.t.of("rtc:closed")'))[0]!.message.reason).toBe('hangup');
  }, 90_000);

  // Without resume (off, or the window passed): the old path. A new cid, the group re-joined,
  // and the call itself goes on (a checks over the control channel that b is still there).
  for (const variant of [
    { name: 'resume off', resume: { windowMs: 0 }, reason: undefined },
    { name: 'the resume window passed', resume: { windowMs: 1_000 }, reason: 'expired' },
  ] as const) {
    it(`${variant.name}: the realtime connection comes back with a new cid, the call goes on, and hang-up still arrives`, async () => {
      const own = await startSwitchboard({ resume: variant.resume });
      try {
        const [a, b] = await two({ on: own });
        await connected(a, b, { audio: false, video: true });
        const oldCid = b.cid;
        await b.cut();
        await b.waitFor(`window.t.of('error').length + window.t.of('reconnect').length > 0`, 15_000);
        // The server disconnects b (at once, or when the window passes): its group is told.
        await a.waitFor(`window.t.rt.some((e) => e.type === 'notice' && e.code === 'USER_DISCONNECTED' && e.sender_cid === ${JSON.stringify(oldCid)})`, 15_000);
        const framesBefore = await a.eval<number>('window.t.frames()');
        await a.waitFor(`window.t.frames().then((n) => n >= ${framesBefore + 20})`, 15_000);
        await b.restore();
        await b.waitFor(`window.t.sb.cid !== null && window.t.sb.cid !== ${JSON.stringify(oldCid)}`, 20_000);
        const reconnect = (await b.eval<Array<Record<string, unknown>>>(`window.t.rt.filter((e) => e.type === 'reconnect' && 'resumed' in e)`))[0];
        expect(reconnect).toMatchObject({ resumed: false, previousCid: oldCid, cid: await b.eval('window.t.sb.cid') });
        expect(reconnect?.['reason']).toBe(variant.reason);
        expect(await a.eval('window.t.of("rtc:closed").length')).toBe(0);
        expect(await b.eval('window.t.of("rtc:closed").length')).toBe(0);
        expect(await a.eval('window.t.connectionState()')).toBe('connected');
        await a.eval('window.t.hangup()');
        await b.waitFor(`window.t.of('rtc:closed').length === 1`, 5_000);
        expect((await b.eval<{ message: { reason: string } }[]>('window.t.of("rtc:closed")'))[0]!.message.reason).toBe('hangup');
      } finally {
        await Promise.all(phones.splice(0).map((p) => p.close()));
        await own.close();
      }
    }, 90_000);
  }

  it('hang-up with the signaling server stopped reaches the other side within a second', async () => {
    const own = await startSwitchboard();
    try {
      const [a, b] = await two({ on: own });
      await connected(a, b, { audio: true, video: false });
      await own.close();
      await a.waitFor(`window.t.of('reconnect').length + window.t.of('error').length > 0`, 15_000);
      const started = Date.now();
      await a.eval('window.t.hangup()');
      await b.waitFor(`window.t.of('rtc:closed').length === 1`, 5_000);
      const ms = Date.now() - started;
      console.info(`[calls] hang-up with the server stopped reached the callee in ${ms} ms`);
      expect(ms).toBeLessThan(1000);
      expect((await b.eval<{ message: { hungup: string; reason: string } }[]>('window.t.of("rtc:closed")'))[0]!.message).toMatchObject({ hungup: a.user_id, reason: 'hangup' });
    } finally {
      await own.close();
    }
  }, 60_000);

  it('20 calls in a row leave no peer connection, track or call behind, and no growing heap', async () => {
    const [a, b] = await two();
    const times: number[] = [];
    let baseline: [number, number] = [0, 0];
    for (let i = 0; i < 20; i++) {
      // The first two calls warm up code and caches; growth is measured over the other 18.
      if (i === 2) baseline = [await jsHeapAfterGc(a.page), await jsHeapAfterGc(b.page)];
      await a.eval('window.t.clear()');
      await b.eval('window.t.clear()');
      const { callerMs } = await connected(a, b, { audio: true, video: i % 2 === 0 });
      times.push(callerMs);
      await (i % 2 === 0 ? a : b).eval('window.t.hangup()');
      await a.waitFor(`window.t.of('rtc:closed').length === 1`);
      await b.waitFor(`window.t.of('rtc:closed').length === 1`);
    }
    await a.waitFor('window.t.liveTracks() === 0 && window.t.openPcs() === 0');
    await b.waitFor('window.t.liveTracks() === 0 && window.t.openPcs() === 0');
    expect(await a.eval('window.__pcs.length')).toBe(20);
    expect(await a.eval('window.t.liveCalls()')).toBe(0);
    expect(await b.eval('window.t.liveCalls()')).toBe(0);
    const growth = [(await jsHeapAfterGc(a.page)) - baseline[0], (await jsHeapAfterGc(b.page)) - baseline[1]];
    console.info(`[calls] 20 calls: JS heap growth after GC over 18 calls: ${growth.map((g) => `${(g / 1024).toFixed(0)} KiB`).join(', ')}`);
    // Stated tolerance: 1 MiB per page over 18 calls (measured: about 200 KiB) (a leaked call with its peer connection,
    // channels and listeners would add far more; the test keeps its 20 closed RTCPeerConnections in window.__pcs).
    for (const g of growth) expect(g).toBeLessThan(1024 * 1024);
    const sorted = [...times].sort((x, y) => x - y);
    console.info(`[calls] 20 calls: accept→connected median ${Math.round(sorted[10]!)} ms (min ${Math.round(sorted[0]!)}, max ${Math.round(sorted[19]!)})`);
  }, 180_000);

  it("Skapi's guide example runs with only the initialisation line changed", async () => {
    const pages = [];
    for (const name of ['alice', 'bob']) {
      const forward = await forwardIntoNetns(ns, stack.port, { listenPort: 21_000 + pages.length + groupCounter * 2 });
      const context = await browser.newContext();
      const page = await context.newPage();
      await installWebrtcStats(page);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${forward.origin}/guide.html?name=${name}`);
      pages.push({ page, context, forward, errors });
      // Alice is in the group before Bob joins, so Bob's USER_JOINED makes Alice call him.
      await pollPage(page, `window.skapi && window.skapi.cid !== null`, 10_000);
      await pollPage(page, `window.skapi.getRealtimeUsers({ group: 'RTCCall' }).then((r) => r.list.some((u) => u.cid === window.skapi.cid))`, 10_000);
    }
    const [alice, bob] = pages as [typeof pages[0], typeof pages[0]];
    try {
      await pollPage(bob!.page, `document.getElementById('call_dialog').open && document.body.innerHTML.includes('Incoming call')`, 15_000);
      await pollPage(alice!.page, `document.getElementById('call_dialog').open && document.body.innerHTML.includes('Outgoing call')`);
      await bob!.page.getByText('Accept').click();
      for (const p of [alice!, bob!]) {
        await pollPage(p.page, `typeof rtcConnection !== 'undefined' && rtcConnection && document.getElementById('localVideo').srcObject === rtcConnection.media`, 15_000);
        await pollPage(p.page, `document.getElementById('remoteVideo').srcObject !== null`, 15_000);
        await pollPage(p.page, `window.__sbStats.framesDecoded(rtcConnection.target).then((n) => n >= 10)`, 15_000);
      }
      const frames = await alice!.page.evaluate('window.__sbStats.framesDecoded(rtcConnection.target)');
      await alice!.page.evaluate('rtcConnection.hangup()');
      await pollPage(bob!.page, 'call === null', 5_000);
      await pollPage(alice!.page, 'call === null', 5_000);
      console.info(`[calls] guide example: connected, ${frames} frames decoded at alice; page errors: ${JSON.stringify([...alice!.errors, ...bob!.errors])}`);
    } finally {
      for (const p of pages) {
        await p.context.close();
        await p.forward.close();
      }
    }
  }, 90_000);
});

async function waitUntil(at: number): Promise<void> {
  const ms = at - Date.now();
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

/** The page's JS heap after a full garbage collection (DevTools protocol). */
async function jsHeapAfterGc(page: import('playwright-core').Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    return usedSize;
  } finally {
    await cdp.detach();
  }
}
