/**
 * Calls through the real server (see calls.test.ts) while the realtime connection drops: a cut
 * mid-call resumed with the same cid, resume off or its window passed (a new cid, the call goes
 * on), and a hang-up while the signaling server is down (it travels over the control channel).
 */
import { expect, it } from 'vitest';
import { describeWith } from '@switchboard/test-utils';
import { startSwitchboard } from './calls-support/stack.js';
import { callSuite, waitUntil } from './calls-support/suite.js';

describeWith(['chromium', 'netns'], 'calls through the real server across realtime drops', () => {
  const suite = callSuite('calls-resume');
  const { two, connected, phones } = suite;

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
    console.info(
      `[calls] WebSocket cut for ${restoredAt - cutAt} ms mid-call: resumed ${resumedMs} ms after the path came back, same cid; b decoded ${framesAfter - framesAtCut} frames from the cut to the resume; 2 frames replayed, the queued post acked once`,
    );
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
      expect((await b.eval<{ message: { hungup: string; reason: string } }[]>('window.t.of("rtc:closed")'))[0]!.message).toMatchObject({
        hungup: a.user_id,
        reason: 'hangup',
      });
    } finally {
      await own.close();
    }
  }, 60_000);
});
