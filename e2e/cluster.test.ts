/**
 * The cluster end to end, with real processes in one network namespace: redis-server, three
 * nodes (`switchboard serve --http --redis …`), a round-robin TCP load balancer, and Chromium
 * pages (fake camera) running the browser bundle. Default cluster timings (heartbeat 2 s,
 * a node silent for 10 s is dead), so "within 15 s" is measured against the real settings.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pollPage } from './calls-support/call-app.js';
import { ClusterPhone, nodeOf, pagesDir, resumedOn, startLoadBalancer, startNode, type ClusterNode } from './cluster-support/cluster.js';
import {
  closeAllBrowsers,
  createNetns,
  deleteAllNetns,
  describeWith,
  installWebrtcStats,
  launchChromium,
  startRedis,
  stopAllProcesses,
  type Netns,
  type RedisHandle,
} from '@switchboard/test-utils';

describeWith(['redis', 'chromium', 'netns'], 'cluster: three nodes, real processes, Chromium', () => {
  let ns: Netns;
  let redis: RedisHandle;
  let pages: ReturnType<typeof pagesDir>;
  const nodes: ClusterNode[] = [];
  let lb: Awaited<ReturnType<typeof startLoadBalancer>>;
  let browser: Browser;
  const phones: ClusterPhone[] = [];

  beforeAll(async () => {
    ns = createNetns('cluster');
    redis = await startRedis({ netns: ns });
    pages = pagesDir();
    for (const id of ['node-1', 'node-2', 'node-3']) nodes.push(await startNode({ netns: ns, redisUrl: redis.url, id, staticDir: pages.dir }));
    lb = await startLoadBalancer(
      ns,
      nodes.map((n) => n.port),
    );
    browser = await launchChromium({ netns: ns, args: ['--autoplay-policy=no-user-gesture-required'] });
  }, 60_000);

  afterAll(async () => {
    for (const p of phones) await p.close();
    await closeAllBrowsers();
    await stopAllProcesses();
    deleteAllNetns();
    pages?.remove();
  });

  it("Skapi's guide call flow with the caller on node-1 and the callee on node-2", async () => {
    const sides = [];
    for (const [name, node] of [
      ['alice', nodes[0]!],
      ['bob', nodes[1]!],
    ] as const) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await installWebrtcStats(page);
      await page.goto(`${node.origin}/guide.html?name=${name}`);
      await pollPage(page, 'window.skapi && window.skapi.cid !== null', 10_000);
      await pollPage(page, `window.skapi.getRealtimeUsers({ group: 'RTCCall' }).then((r) => r.list.some((u) => u.cid === window.skapi.cid))`, 10_000);
      sides.push({ page, context, cid: await page.evaluate<string>('window.skapi.cid') });
    }
    const [alice, bob] = sides as [(typeof sides)[0], (typeof sides)[0]];
    try {
      expect([await nodeOf(nodes, alice.cid), await nodeOf(nodes, bob.cid)]).toEqual([0, 1]);
      // Bob's USER_JOINED crossed to node-1; Alice's invite crosses back to node-2.
      await pollPage(bob.page, `document.getElementById('call_dialog').open && document.body.innerHTML.includes('Incoming call')`, 15_000);
      await pollPage(alice.page, `document.getElementById('call_dialog').open && document.body.innerHTML.includes('Outgoing call')`);
      await bob.page.getByText('Accept').click();
      for (const p of [alice, bob]) {
        await pollPage(p.page, `typeof rtcConnection !== 'undefined' && rtcConnection && document.getElementById('remoteVideo').srcObject !== null`, 15_000);
        await pollPage(p.page, 'window.__sbStats.framesDecoded(rtcConnection.target).then((n) => n >= 10)', 15_000);
      }
      const frames = await alice.page.evaluate('window.__sbStats.framesDecoded(rtcConnection.target)');
      await alice.page.evaluate('rtcConnection.hangup()');
      await pollPage(bob.page, 'call === null', 5_000);
      await pollPage(alice.page, 'call === null', 5_000);
      console.info(`[cluster] guide flow across nodes: connected, ${frames} frames decoded at alice (node-1), bob on node-2`);
    } finally {
      for (const s of sides) await s.context.close();
    }
  }, 90_000);

  it('ringing a user across nodes: two pages of one user on node-2 and node-3 ring for a caller on node-1; one accepts with video, the other stops with answered_elsewhere', async () => {
    const alice = await ClusterPhone.open(browser, nodes[0]!.origin, nodes[0]!.origin, 'ring-alice', null);
    const laptop = await ClusterPhone.open(browser, nodes[1]!.origin, nodes[1]!.origin, 'ring-bob', null);
    const phone = await ClusterPhone.open(browser, nodes[2]!.origin, nodes[2]!.origin, 'ring-bob', null);
    const ringing = [alice, laptop, phone];
    try {
      expect(await Promise.all(ringing.map((p) => nodeOf(nodes, p.cid)))).toEqual([0, 1, 2]);
      const media = { audio: true, video: true };
      const call = await alice.eval<string>(`window.t.call('ring-bob', ${JSON.stringify({ media })})`);
      for (const device of [laptop, phone]) await device.waitFor(`window.t.incoming && window.t.incoming.call === ${JSON.stringify(call)}`);
      expect(await phone.eval(`window.t.accept(${JSON.stringify({ media })})`)).toBe(call);
      await laptop.waitFor(`window.t.of('rtc:closed').length === 1`);
      expect((await laptop.eval<{ message: unknown }[]>('window.t.of("rtc:closed")'))[0]!.message).toMatchObject({ reason: 'answered_elsewhere', call });
      for (const p of [alice, phone]) await p.waitFor(`window.t.connectionState() === 'connected'`);
      await alice.waitFor('window.t.frames().then((n) => n >= 5)');
      await phone.waitFor('window.t.frames().then((n) => n >= 5)');
      expect(await alice.eval('window.t.callError')).toBeNull();
      expect(await laptop.eval('window.t.openPcs() + window.t.liveTracks()')).toBe(0);
      await alice.eval('window.t.hangup()');
      await phone.waitFor(`window.t.of('rtc:closed').length === 1`);
    } finally {
      for (const p of ringing) await p.close();
    }
  }, 90_000);

  it('kill -9 of a third node mid-call: its users resume on the others with the same cids, nothing missed, nobody told; the call goes on', async () => {
    // Six users through the round-robin balancer: connection i lands on node i mod 3.
    const names = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
    for (const name of names) phones.push(await ClusterPhone.open(browser, nodes[0]!.origin, lb.origin, name, 'room'));
    const [alice, bob, carol, dave, erin, frank] = phones as [ClusterPhone, ClusterPhone, ClusterPhone, ClusterPhone, ClusterPhone, ClusterPhone];
    expect(await Promise.all(phones.map((p) => nodeOf(nodes, p.cid)))).toEqual([0, 1, 2, 0, 1, 2]);
    const victims = [carol, frank];
    const survivors = [alice, bob, dave, erin];
    const cids = phones.map((p) => p.cid);
    for (const p of survivors) {
      await p.waitFor(`window.t.sb.getRealtimeUsers({ group: 'room' }).then((r) => r.list.length === 6)`, 10_000);
    }

    // alice (node-1) calls bob (node-2): media both ways and a data channel.
    const call = await alice.eval<string>(`window.t.call(${JSON.stringify(bob.cid)}, { media: { audio: true, video: true } })`);
    await bob.waitFor(`window.t.incoming && window.t.incoming.call === ${JSON.stringify(call)}`);
    await bob.eval('window.t.accept({ media: { audio: true, video: true } })');
    for (const p of [alice, bob]) await p.waitFor(`window.t.connectionState() === 'connected'`);
    await alice.waitFor('window.t.frames().then((n) => n >= 10)');
    await bob.waitFor(`window.t.labels().includes('default')`);
    for (const p of phones) await p.eval('window.__mark = window.t.rt.length, true');

    const killedAt = Date.now();
    nodes[2]!.process.child.kill('SIGKILL');
    await nodes[2]!.process.exited;
    // Posted at once: the victims may still be cut off (the frame waits for them in Redis) or back already.
    await erin.eval(`window.t.sb.postRealtime({ gap: 1 }, 'room')`);
    const backBeforeGapPost = await Promise.all(victims.map((v) => v.eval<boolean>(`window.t.rt.some((e) => e.type === 'reconnect' && 'resumed' in e)`)));
    await alice.eval(`window.t.sb.postRealtime(${JSON.stringify('private in the gap')}, ${JSON.stringify(carol.cid)})`);
    const resumed = Promise.all(
      victims.map(async (v) => {
        await v.waitFor(`window.t.rt.some((e) => e.type === 'reconnect' && 'resumed' in e)`, 20_000);
        return Date.now() - killedAt;
      }),
    );

    // The call does not notice: frames keep coming, the data channel still carries messages.
    const framesAtKill = await alice.eval<number>('window.t.frames()');
    expect(await alice.eval('window.t.send("default", "after the kill")')).toBe(true);
    await bob.waitFor(`window.t.rtc.some((e) => e.type === 'message' && e.data === 'after the kill')`);
    // Realtime messages between the two surviving nodes go on at once.
    await alice.eval(`window.t.sb.postRealtime({ n: 1 }, 'room')`);
    await bob.waitFor(`window.t.rt.some((e) => e.type === 'message' && e.message && e.message.n === 1)`, 5_000);
    await bob.eval(`window.t.sb.postRealtime('private after the kill', ${JSON.stringify(alice.cid)})`);
    await alice.waitFor(`window.t.rt.some((e) => e.type === 'private' && e.message === 'private after the kill')`, 5_000);

    // The dead node's users resumed through the balancer on a surviving node, with their cids.
    const resumedMs = await resumed;
    for (const v of victims) {
      const events = await v.eval<Array<{ resumed: boolean; reason?: string; cid: string; previousCid: string }>>(
        `window.t.rt.filter((e) => e.type === 'reconnect' && 'resumed' in e)`,
      );
      expect(events).toEqual([expect.objectContaining({ resumed: true, cid: v.cid, previousCid: v.cid })]);
      expect(await v.currentCid()).toBe(v.cid);
      expect([0, 1]).toContain(await resumedOn(nodes, v.cid));
      // What was sent while they were away arrived, once.
      await v.waitFor(`window.t.rt.some((e) => e.type === 'message' && e.message && e.message.gap === 1)`, 5_000);
      expect(await v.eval(`window.t.rt.filter((e) => e.type === 'message' && e.message && e.message.gap === 1).length`)).toBe(1);
    }
    await carol.waitFor(`window.t.rt.some((e) => e.type === 'private' && e.message === 'private in the gap')`, 5_000);

    // A survivor reaps the dead node: by then its connections belong to the nodes they resumed on.
    const reaper = /"node":"node-3","connections":(\d+).*node stopped heartbeating/;
    const reaped = await Promise.any(nodes.slice(0, 2).map((n) => n.process.waitForLine(reaper, 20_000)));
    const reapedMs = Date.now() - killedAt;
    expect(Number(reaper.exec(reaped)![1])).toBe(0);
    // Nobody was told anything: no USER_DISCONNECTED / USER_JOINED since the kill, the same six cids listed.
    for (const p of phones) {
      expect(await p.eval(`window.t.rt.slice(window.__mark).filter((e) => e.type === 'notice').map((e) => e.code)`)).toEqual([]);
    }
    const listed = await alice.eval<string[]>(`window.t.sb.getRealtimeUsers({ group: 'room' }).then((r) => r.list.map((u) => u.cid))`);
    expect(listed.sort()).toEqual([...cids].sort());
    // The resumed users are reachable from both surviving nodes.
    await erin.eval(`window.t.sb.postRealtime('welcome back', 'room')`);
    for (const v of victims) await v.waitFor(`window.t.rt.some((e) => e.type === 'message' && e.message === 'welcome back')`, 5_000);
    await dave.eval(`window.t.sb.postRealtime('direct', ${JSON.stringify(frank.cid)})`);
    await frank.waitFor(`window.t.rt.some((e) => e.type === 'private' && e.message === 'direct')`, 5_000);

    // Still the same call, still decoding.
    expect(await alice.eval('window.t.connectionState()')).toBe('connected');
    await alice.waitFor(`window.t.frames().then((n) => n > ${framesAtKill + 20})`);
    for (const p of [alice, bob]) expect(await p.eval(`window.t.rt.filter((e) => e.type === 'rtc:closed').length`)).toBe(0);
    await alice.eval('window.t.hangup()');
    await bob.waitFor(`window.t.rt.some((e) => e.type === 'rtc:closed')`, 5_000);
    console.info(
      `[cluster] kill -9 node-3: its users resumed with their cids via the balancer after ${resumedMs.join(' / ')} ms (back before the gap post: ${backBeforeGapPost.join(' / ')}); node-3 reaped after ${reapedMs} ms with 0 connections left; no notices; the call kept decoding`,
    );
  }, 120_000);

  it('Redis stopped and restarted under load: SERVER_UNAVAILABLE meanwhile, then the nodes rebuild their state', async () => {
    expect(phones).toHaveLength(6); // from the previous test, on node-1 and node-2
    const [alice, bob] = phones as [ClusterPhone, ClusterPhone];
    // Every page posts to the room every 50 ms and records what came back.
    const LOAD = `window.__load = { acks: 0, codes: {}, stop: false }; (async () => {
      while (!window.__load.stop) {
        try { await window.t.sb.postRealtime({ load: true }, 'room'); window.__load.acks += 1; }
        catch (err) { window.__load.codes[err.code] = (window.__load.codes[err.code] || 0) + 1; }
        await new Promise((r) => setTimeout(r, 50));
      }
    })(); true`;
    for (const p of phones) await p.eval(LOAD);
    await alice.waitFor('window.__load.acks >= 10');
    await redis.stop();
    for (const p of phones) await p.waitFor(`(window.__load.codes.SERVER_UNAVAILABLE || 0) >= 3`, 10_000);
    const acksDuring = await alice.eval<number>('window.__load.acks');
    redis = await startRedis({ netns: ns, port: redis.port });
    const restartedAt = Date.now();
    for (const p of phones) await p.waitFor(`window.__load.acks >= ${acksDuring + 10}`, 20_000);
    const recoveredMs = Date.now() - restartedAt;
    for (const p of phones) await p.eval('window.__load.stop = true');
    const codes = await Promise.all(phones.map((p) => p.eval<Record<string, number>>('window.__load.codes')));
    for (const c of codes) expect(Object.keys(c)).toEqual(['SERVER_UNAVAILABLE']);
    // Connections stayed up; memberships were re-registered from the nodes' memory.
    for (const p of phones) expect(await p.currentCid()).toBe(p.cid);
    // (Each node re-registers right after it reconnects; the two may be a moment apart.)
    await alice.waitFor(`window.t.sb.getRealtimeUsers({ group: 'room' }).then((r) => r.list.length === 6)`, 10_000);
    const listed = await alice.eval<string[]>(`window.t.sb.getRealtimeUsers({ group: 'room' }).then((r) => r.list.map((u) => u.cid))`);
    expect(listed.sort()).toEqual(phones.map((p) => p.cid).sort());
    await bob.eval(`window.t.sb.postRealtime('after redis', 'room')`);
    for (const p of phones) await p.waitFor(`window.t.rt.some((e) => e.type === 'message' && e.message === 'after redis')`, 5_000);
    // Calls signal across nodes again.
    await alice.eval('window.t.clear()');
    await bob.eval('window.t.clear()');
    const call = await alice.eval<string>(`window.t.call(${JSON.stringify(bob.cid)}, { media: { audio: true, video: false } })`);
    await bob.waitFor(`window.t.incoming && window.t.incoming.call === ${JSON.stringify(call)}`);
    await bob.eval('window.t.accept({ media: { audio: true, video: false } })');
    for (const p of [alice, bob]) await p.waitFor(`window.t.connectionState() === 'connected'`);
    await alice.eval('window.t.hangup()');
    const unavailable = codes.reduce((n, c) => n + (c['SERVER_UNAVAILABLE'] ?? 0), 0);
    console.info(
      `[cluster] Redis restart under load: ${unavailable} posts answered SERVER_UNAVAILABLE (nothing else), traffic back ${recoveredMs} ms after Redis restarted; 6 memberships rebuilt; a new call connected`,
    );
  }, 90_000);
});
