/**
 * Path loss on a Node call: UDP dropped on the namespace's `lo` (tc), the realtime connection
 * (TCP) untouched. The call layer is the browser's (disconnected → grace → ICE restarts →
 * RTC_ICE_FAILED, hang-up over signaling), but libdatachannel cannot restart ICE with new
 * credentials and reports no `disconnected`: it keeps its pair (SCTP retransmits across a short
 * outage) and notices a dead path by consent freshness after about 30 s, when its data channels
 * close and the call ends with peer_gone. A browser peer notices within seconds, tries its
 * restarts (refused by the Node side) and ends the call with ice_failed on both sides.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Phone } from './calls-support/call-app.js';
import { startSwitchboard, type Stack } from './calls-support/stack.js';
import { NodeAgent } from './node-agent-control.mjs';
import {
  blockUdp, closeAllBrowsers, createNetns, deleteAllNetns, describeWith, forwardIntoNetns, launchChromium, stopAllProcesses, unblockUdp,
  type Forward, type Netns,
} from './support/index.js';

const FAST = { iceDisconnectGraceMs: 1_000, iceRestartTimeoutMs: 4_000, maxIceRestarts: 2 };
let listenPort = 33_000;

describeWith(['chromium', 'netns'], 'Node calls when the path breaks', () => {
  let ns: Netns;
  let stack: Stack;
  let browser: Browser;
  const agents: NodeAgent[] = [];
  const phones: Phone[] = [];
  const forwards: Forward[] = [];
  let group = 0;

  beforeAll(async () => {
    ns = createNetns('node-ice');
    stack = await startSwitchboard();
    browser = await launchChromium({ netns: ns });
  });
  afterEach(async () => {
    unblockUdp(ns);
    await Promise.all(agents.splice(0).map((a) => a.stop()));
    await Promise.all(phones.splice(0).map((p) => p.close()));
    await Promise.all(forwards.splice(0).map((f) => f.close()));
  });
  afterAll(async () => {
    await closeAllBrowsers();
    await stack?.close();
    await stopAllProcesses();
    deleteAllNetns();
  });

  async function agent(name: string, g: string): Promise<NodeAgent> {
    const forward = await forwardIntoNetns(ns, stack.port, { listenPort: listenPort++ });
    forwards.push(forward);
    const a = await NodeAgent.start({ url: forward.origin, name, group: g, bind: '127.0.0.1', options: FAST, wrap: (f, args) => ns.wrap(f, args), log: Boolean(process.env.AGENT_LOG) });
    agents.push(a);
    return a;
  }

  it('Node ↔ Node: a short UDP outage is survived; a lasting one ends the call on both sides', async () => {
    const g = `ice-${++group}`;
    const a = await agent('a', g);
    const b = await agent('b', g);
    await b.request('autoAccept', {});
    await a.request('call', { cid: b.cid });
    await b.waitEvent((e) => e.event === 'accepted');

    const blip = a.mark();
    blockUdp(ns);
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // the outage itself (no event to await: nothing is sent)
    unblockUdp(ns);
    await a.request('send', { data: 'after the blip' });
    await b.waitEvent((e) => e.event === 'message' && e.data === 'after the blip', 20_000);
    console.info(`[node-ice] Node↔Node 3 s outage: events ${JSON.stringify(a.events.slice(blip).map((e) => e.state ?? e.event))}`);

    const cut = Date.now();
    const [markA, markB] = [a.mark(), b.mark()];
    blockUdp(ns);
    const closedA = await a.waitEvent((e) => e.event === 'closed', 90_000, markA);
    const closedB = await b.waitEvent((e) => e.event === 'closed', 90_000, markB);
    console.info(`[node-ice] Node↔Node lasting outage: rtc:closed after ${Date.now() - cut} ms: ${JSON.stringify([closedA, closedB])}`);
    expect(['ice_failed', 'peer_gone']).toContain(closedA.reason);
    expect(['ice_failed', 'peer_gone']).toContain(closedB.reason);
    expect(Date.now() - cut).toBeLessThan(60_000);
  }, 150_000);

  it('Chromium ↔ Node: a short UDP outage is survived; a lasting one ends the call on both sides', async () => {
    const g = `ice-${++group}`;
    const bot = await agent('node', g);
    const page = await Phone.open(browser, ns, stack.port, { name: 'chromium', ...FAST }, g);
    phones.push(page);
    await bot.request('autoAccept', {});
    await page.call(bot.cid, {});
    await bot.waitEvent((e) => e.event === 'accepted');
    await page.waitFor(`window.t.resolved && window.t.resolved.channels.default && window.t.resolved.channels.default.readyState === 'open'`);

    blockUdp(ns);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    unblockUdp(ns);
    expect(await page.eval('window.t.send("default", "after the blip")')).toBe(true);
    await bot.waitEvent((e) => e.event === 'message' && e.data === 'after the blip', 20_000);
    const states = await page.eval<string[]>(`window.t.rtc.filter((e) => e.type === 'connectionstatechange').map((e) => e.state)`);
    console.info(`[node-ice] Chromium↔Node 3 s outage: Chromium states ${JSON.stringify(states)}`);

    const cut = Date.now();
    const mark = bot.mark();
    blockUdp(ns);
    const closed = await bot.waitEvent((e) => e.event === 'closed', 90_000, mark);
    await page.waitFor(`window.t.of('rtc:closed').length === 1`, 90_000);
    const pageClosed = (await page.eval<{ message: { reason: string } }[]>('window.t.of("rtc:closed")'))[0]!.message;
    console.info(`[node-ice] Chromium↔Node lasting outage: closed after ${Date.now() - cut} ms: node ${JSON.stringify(closed)}, chromium ${JSON.stringify(pageClosed)}`);
    expect(pageClosed.reason).toBe('ice_failed');
    expect(closed).toMatchObject({ reason: 'ice_failed', code: 'RTC_ICE_FAILED' }); // the browser's hang-up reached Node over signaling
  }, 150_000);
});
