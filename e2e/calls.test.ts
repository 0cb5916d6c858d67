/**
 * Calls end to end: Chromium pages (fake camera/microphone) inside network namespaces, the
 * Switchboard browser bundle (packages/client/dist/switchboard.browser.js), and the real
 * server (packages/server) running in this process, reached through per-page forwarders.
 * Each scenario is its own test. Numbers (connect time, frames decoded) are printed.
 * Calls across realtime drops and server restarts: calls-resume.test.ts; across broken or
 * relayed network paths: calls-network.test.ts.
 */
import { expect, it } from 'vitest';
import { describeWith, forwardIntoNetns, installWebrtcStats } from '@switchboard/test-utils';
import { Phone, pollPage } from './calls-support/call-app.js';
import { callSuite } from './calls-support/suite.js';

describeWith(['chromium', 'netns'], 'calls through the real server', () => {
  const suite = callSuite('calls');
  const { two, connected } = suite;

  it('guide flow: video call, tracks both ways, labelled reliable data channel, hang-up ends both once', async () => {
    const [a, b] = await two();
    const { call, callerMs, calleeMs } = await connected(a, b);
    const incoming = (await b.eval<Record<string, unknown>[]>('window.t.of("rtc:incoming")'))[0];
    expect(incoming).toMatchObject({
      sender: a.user_id,
      sender_cid: a.cid,
      sender_rid: null,
      code: null,
      call,
      sender_name: 'alice',
      media: { audio: true, video: true },
      hasConnectRTC: true,
      hasHangup: true,
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
    console.info(
      `[calls] guide flow: accept→connected caller ${Math.round(callerMs)} ms, callee ${Math.round(calleeMs)} ms; frames decoded a=${frames[0]} b=${frames[1]} ${framesMs} ms after connected; pair ${pair?.local.address}`,
    );

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

  it('ringing a user: two pages of one user both ring; one accepts and the call connects with video; the other stops with answered_elsewhere', async () => {
    const { stack, browser, ns, phones } = suite;
    const token = await stack.server.issueToken({ user_id: 'ring-bob', name: 'bob' });
    const laptop = await Phone.open(browser, ns, stack.port, { token }, null);
    const phone = await Phone.open(browser, ns, stack.port, { token }, null);
    const alice = await Phone.open(browser, ns, stack.port, { name: 'alice' }, null);
    phones.push(laptop, phone, alice);
    const media = { audio: true, video: true };
    // A user_id, not a cid: every connection of theirs rings.
    const call = await alice.call('ring-bob', { media });
    for (const device of [laptop, phone]) await device.waitFor(`window.t.incoming && window.t.incoming.call === ${JSON.stringify(call)}`);
    expect(await phone.accept({ media })).toBe(call);
    await laptop.waitFor(`window.t.of('rtc:closed').length === 1`);
    expect((await laptop.eval<{ message: unknown }[]>('window.t.of("rtc:closed")'))[0]!.message).toMatchObject({ reason: 'answered_elsewhere', call });
    await alice.waitFor(`window.t.connectionState() === 'connected'`);
    await phone.waitFor(`window.t.connectionState() === 'connected'`);
    await alice.waitFor(`window.t.frames().then((n) => n >= 5)`);
    await phone.waitFor(`window.t.frames().then((n) => n >= 5)`);
    expect(await alice.eval('window.t.callError')).toBeNull();
    expect(await laptop.eval('window.t.openPcs() + window.t.liveTracks()')).toBe(0);
    await alice.eval('window.t.hangup()');
    await phone.waitFor(`window.t.of('rtc:closed').length === 1`);
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
    const [ca, cb] = await Promise.all([a.call(b.cid, { media: { video: true } }), b.call(a.cid, { media: { video: true } })]);
    await a.waitFor(`window.t.connectionState() === 'connected'`);
    await b.waitFor(`window.t.connectionState() === 'connected'`);
    const ids = [await a.eval<string>('window.t.resolved.call'), await b.eval<string>('window.t.resolved.call')];
    expect(ids[0]).toBe(ids[1]);
    expect([ca, cb]).toContain(ids[0]);
    // ca !== cb: both invites crossed (glare rule); equal: b saw a's invite first and connectRTC accepted it.
    console.info(`[calls] glare: ${ca !== cb ? "the two invites crossed; the smaller cid's call was kept" : "b's connectRTC accepted a's ringing call"}`);
    expect(await a.eval('window.t.callError')).toBeNull();
    expect(await b.eval('window.t.callError')).toBeNull();
    expect(await a.eval('window.t.of("rtc:incoming").length + window.t.of("rtc:closed").length')).toBe(0);
    // When a's invite reached b before b called (the invite goes out before the camera opens), b's app
    // may have been told it rings before its own connectRTC accepted it: one rtc:incoming, never a closed.
    expect(await b.eval('window.t.of("rtc:closed").length')).toBe(0);
    expect(await b.eval<number>('window.t.of("rtc:incoming").length')).toBeLessThanOrEqual(ca === cb ? 1 : 0);
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
    const token = await suite.stack.server.issueToken({ user_id: 'same-user', name: 'Sam' });
    const [a, b] = await two({ a: { token }, b: { token } });
    expect(a.user_id).toBe(b.user_id);
    await connected(a, b, { audio: false, video: true });
    await b.waitFor('window.t.frames().then((n) => n >= 5)');
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
      const forward = await forwardIntoNetns(suite.ns, suite.stack.port, { listenPort: 21_000 + pages.length });
      const context = await suite.browser.newContext();
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
    const [alice, bob] = pages as [(typeof pages)[0], (typeof pages)[0]];
    try {
      await pollPage(bob!.page, `document.getElementById('call_dialog').open && document.body.innerHTML.includes('Incoming call')`, 15_000);
      await pollPage(alice!.page, `document.getElementById('call_dialog').open && document.body.innerHTML.includes('Outgoing call')`);
      await bob!.page.getByText('Accept').click();
      for (const p of [alice!, bob!]) {
        await pollPage(
          p.page,
          `typeof rtcConnection !== 'undefined' && rtcConnection && document.getElementById('localVideo').srcObject === rtcConnection.media`,
          15_000,
        );
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
