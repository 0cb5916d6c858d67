/**
 * Path loss on a Node call: UDP dropped on the namespace's `lo` (tc), the realtime connection
 * (TCP) untouched. libdatachannel can neither restart ICE in place nor report `disconnected`,
 * so a Node side watches a control-channel heartbeat (silence for 2.5 s reads as disconnected)
 * and a restart becomes a renewal: a new peer connection inside the same call (calls/renewal.ts).
 * Proof, for Node ↔ Node and Chromium ↔ Node: a 6 s outage is recovered in the same call (same
 * call id, no second rtc:incoming, a new `target`, the same `channels.default` label carrying
 * messages both ways); an outage that lasts ends the call with ice_failed on both sides once the
 * restart budget is spent. And where only TURN connects the peers (A–T–B, relay only), the
 * renewed peer connections connect relay to relay again through new allocations.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Phone } from './calls-support/call-app.js';
import { startSwitchboard, type Stack } from './calls-support/stack.js';
import {
  NodeAgent,
  blockUdp,
  blockUdpOn,
  closeAllBrowsers,
  createNetns,
  createRelayTopology,
  deleteAllNetns,
  describeWith,
  forwardIntoNetns,
  launchChromium,
  explainFailure,
  retryOnceOnLibdatachannelDeadlock,
  startCoturn,
  stopAllProcesses,
  throttleUdp,
  unblockUdp,
  unblockUdpOn,
  type Forward,
  type Netns,
} from '@switchboard/test-utils';

const FAST = { iceDisconnectGraceMs: 1_000, iceRestartTimeoutMs: 4_000, maxIceRestarts: 3 };
const OUTAGE_MS = 6_000;
let listenPort = 33_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `attempt` until it returns true (a channel of the renewed connection opened) or `timeoutMs` passes. */
async function until(attempt: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await attempt()) return Date.now() - started;
    await sleep(100);
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

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
    unblockUdpOn([[ns, 'lo']]); // a test that failed mid-outage left UDP blocked (or not: no error either way)
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
    const a = await NodeAgent.start({
      url: forward.origin,
      name,
      group: g,
      bind: '127.0.0.1',
      options: FAST,
      wrap: (f, args) => ns.wrap(f, args),
      log: Boolean(process.env.AGENT_LOG),
    });
    agents.push(a);
    return a;
  }

  /** Sends `data` from `from` until the agent can (its channel reopened), then waits for it at `to`. */
  async function nodeSendsUntilReceived(from: NodeAgent, to: NodeAgent, data: string): Promise<number> {
    const started = Date.now();
    const mark = to.mark();
    await until(
      async () => {
        try {
          await from.request('send', { data });
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      `sending "${data}"`,
    );
    await to.waitEvent((e) => e.event === 'message' && e.data === data, 20_000, mark);
    return Date.now() - started;
  }

  it('Node ↔ Node: a 6 s outage renews the peer connection inside the call; a lasting one ends it with ice_failed', async () => {
    const g = `ice-${++group}`;
    const a = await agent('a', g);
    const b = await agent('b', g);
    await b.request('autoAccept', {});
    const { call } = await a.request<{ call: string }>('call', { cid: b.cid });
    await b.waitEvent((e) => e.event === 'accepted');
    await nodeSendsUntilReceived(a, b, 'before the outage');

    const markA = a.mark();
    blockUdp(ns);
    await sleep(OUTAGE_MS); // the outage itself (no event to await: nothing gets through)
    unblockUdp(ns);
    const restored = Date.now();
    const aToB = await nodeSendsUntilReceived(a, b, 'after the outage a→b');
    const bToA = await nodeSendsUntilReceived(b, a, 'after the outage b→a');
    const states = a.events
      .slice(markA)
      .filter((e) => e.event === 'connectionstatechange')
      .map((e) => e.state);
    console.info(
      `[node-ice] Node↔Node ${OUTAGE_MS / 1000} s outage: a→b delivered ${Date.now() - restored - bToA} ms after the path returned (then b→a ${bToA} ms); a's states ${JSON.stringify(states)}`,
    );
    expect(aToB).toBeGreaterThan(0);
    const [stateA, stateB] = await Promise.all([
      a.request<{ call: string; renewed: boolean }>('state', {}),
      b.request<{ call: string; renewed: boolean }>('state', {}),
    ]);
    expect(stateA).toMatchObject({ call, renewed: true, connectionState: 'connected' });
    expect(stateB).toMatchObject({ call, renewed: true, connectionState: 'connected' });
    expect(b.events.filter((e) => e.event === 'incoming')).toHaveLength(1);
    expect([...a.events, ...b.events].filter((e) => e.event === 'closed')).toEqual([]);

    const cut = Date.now();
    const [cutA, cutB] = [a.mark(), b.mark()];
    blockUdp(ns);
    const closedA = await a.waitEvent((e) => e.event === 'closed', 60_000, cutA);
    const closedB = await b.waitEvent((e) => e.event === 'closed', 60_000, cutB);
    console.info(`[node-ice] Node↔Node lasting outage: rtc:closed after ${Date.now() - cut} ms: ${JSON.stringify([closedA, closedB])}`);
    expect(closedA).toMatchObject({ reason: 'ice_failed', call });
    expect(closedB).toMatchObject({ reason: 'ice_failed', call });
    expect(Date.now() - cut).toBeLessThan(45_000);
  }, 150_000);

  it('a slow path (UDP at 2 Mbit/s) under a 3 MB sendFile is not taken for a dead one: no renewal, the file arrives whole', async () => {
    const g = `ice-${++group}`;
    const a = await agent('sender', g);
    const b = await agent('receiver', g);
    const channels = [{ label: 'default' }, { label: 'file-transfer', protocol: 'file-transfer', ordered: true }];
    await b.request('autoAccept', { labels: ['default', 'file-transfer'] });
    await a.request('call', { cid: b.cid, params: { channels }, labels: ['default', 'file-transfer'] });
    await b.waitEvent((e) => e.event === 'accepted');
    await b.request('receive', {});
    throttleUdp(ns, '2mbit');
    const size = 3 * 1024 * 1024;
    const mark = b.mark();
    const sent = await a.request<{ sha256: string; ms: number }>('sendFile', { size, name: 'slow.bin' }, 60_000);
    const file = await b.waitEvent((e) => e.event === 'file', 60_000, mark); // afterEach lifts the limit
    console.info(`[node-ice] 3 MB over a 2 Mbit/s path: ${sent.ms} ms (${((size * 8) / sent.ms / 1000).toFixed(2)} Mbit/s)`);
    expect(file).toMatchObject({ bytes: size, sha256: sent.sha256 });
    expect(await a.request('state', {})).toMatchObject({ renewed: false, connectionState: 'connected' });
    expect(await b.request('state', {})).toMatchObject({ renewed: false, connectionState: 'connected' });
  }, 90_000);

  it('Chromium ↔ Node: a 6 s outage renews the peer connection inside the call; a lasting one ends it with ice_failed', async () => {
    const g = `ice-${++group}`;
    const bot = await agent('node', g);
    const page = await Phone.open(browser, ns, stack.port, { name: 'chromium', ...FAST }, g);
    phones.push(page);
    await bot.request('autoAccept', {});
    const call = await page.call(bot.cid, {});
    await bot.waitEvent((e) => e.event === 'accepted');
    await page.waitFor(`window.t.resolved && window.t.resolved.channels.default && window.t.resolved.channels.default.readyState === 'open'`);
    await page.eval('window.__firstTarget = window.t.resolved.target, true');

    blockUdp(ns);
    await sleep(OUTAGE_MS);
    unblockUdp(ns);
    const restored = Date.now();
    const mark = bot.mark();
    // Sent again each second until it arrives: one sent on the old connection while it is being
    // replaced may be lost with it (a data channel is per peer connection).
    const arrived = () => bot.events.slice(mark).some((e) => e.event === 'message' && e.data === 'after the outage');
    const sendAndSee = async () => {
      if (arrived()) return true;
      if (!(await page.eval<boolean>('window.t.send("default", "after the outage")'))) return false;
      await sleep(1_000);
      return arrived();
    };
    await until(sendAndSee, 40_000, 'Chromium → Node on the renewed channel');
    const toBot = Date.now() - restored;
    await until(
      async () => {
        try {
          await bot.request('send', { data: 'back to chromium' });
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      'Node sending on the renewed channel',
    );
    await page.waitFor(`window.t.rtc.some((e) => e.type === 'message' && e.data === 'back to chromium')`);
    const states = await page.eval<string[]>(`window.t.rtc.filter((e) => e.type === 'connectionstatechange').map((e) => e.state)`);
    console.info(
      `[node-ice] Chromium↔Node ${OUTAGE_MS / 1000} s outage: Chromium→Node delivered within ${toBot} ms of the path returning (checked each second); Chromium states ${JSON.stringify(states)}`,
    );
    // The old peer connections may carry the first messages when the path returns (each side keeps
    // its old one until the new one connects); the renewed one takes over right after.
    await until(
      () => page.eval<boolean>('window.t.resolved.target !== window.__firstTarget && window.t.resolved.target.connectionState === "connected"'),
      20_000,
      "Chromium's renewed peer connection",
    );
    await until(async () => (await bot.request('state', {})).renewed === true, 20_000, "Node's renewed peer connection");
    expect(await bot.request('state', {})).toMatchObject({ call, renewed: true, connectionState: 'connected' });
    expect(bot.events.filter((e) => e.event === 'incoming')).toHaveLength(1);
    expect(await page.eval<number>(`window.t.of('rtc:closed').length`)).toBe(0);

    const cut = Date.now();
    const cutBot = bot.mark();
    blockUdp(ns);
    const closed = await bot.waitEvent((e) => e.event === 'closed', 60_000, cutBot);
    await page.waitFor(`window.t.of('rtc:closed').length === 1`, 60_000);
    const pageClosed = (await page.eval<{ message: { reason: string } }[]>('window.t.of("rtc:closed")'))[0]!.message;
    console.info(
      `[node-ice] Chromium↔Node lasting outage: closed after ${Date.now() - cut} ms: node ${JSON.stringify(closed)}, chromium ${JSON.stringify(pageClosed)}`,
    );
    expect(pageClosed.reason).toBe('ice_failed');
    expect(closed).toMatchObject({ reason: 'ice_failed', code: 'RTC_ICE_FAILED' });
    expect(Date.now() - cut).toBeLessThan(45_000);
  }, 150_000);
});

describeWith(['netns', 'coturn'], 'Node calls through coturn when the path breaks (A–T–B, relay only)', () => {
  afterAll(async () => {
    await stopAllProcesses();
    deleteAllNetns();
  });

  it('Node in A ↔ Node in B: a 6 s UDP outage between A and T renews the call through new TURN allocations, relay to relay', async () => {
    await retryOnceOnLibdatachannelDeadlock('A–T–B renewal', renewalThroughTurn);
  }, 240_000);
});

/** One run of the A–T–B renewal scenario, with its own topology, coturn, server and agents. */
async function renewalThroughTurn(): Promise<void> {
  const topo = createRelayTopology();
  const linkA = [
    [topo.a, topo.linkA.devices[0]],
    [topo.t, topo.linkA.devices[1]],
  ] as const;
  const agents: NodeAgent[] = [];
  const forwards: Forward[] = [];
  const turn = await startCoturn({ netns: topo.t, listeningIps: [topo.tIpA, topo.tIpB], relayIp: topo.tRelayIp });
  const stack = await startSwitchboard({
    ice: { turn: [`turn:${topo.tIpA}:${turn.port}?transport=udp`, `turn:${topo.tIpB}:${turn.port}?transport=udp`], turnSecrets: [turn.secret] },
  });
  try {
    const start = async (ns: Netns, name: string): Promise<NodeAgent> => {
      const forward = await forwardIntoNetns(ns, stack.port, { listenPort: listenPort++ });
      forwards.push(forward);
      const node = await NodeAgent.start({
        url: forward.origin,
        name,
        group: 'ice-atb',
        options: FAST,
        wrap: (file, args) => ns.wrap(file, args),
        log: Boolean(process.env.AGENT_LOG),
      });
      agents.push(node);
      return node;
    };
    const [a, b] = [await start(topo.a, 'node-in-a'), await start(topo.b, 'node-in-b')];
    const relay = { iceTransportPolicy: 'relay' };
    await b.request('autoAccept', { params: relay });
    const { call } = await a.request<{ call: string }>('call', { cid: b.cid, params: relay }, 25_000);
    await b.waitEvent((e) => e.event === 'accepted');
    type Pair = { local: { type: string; port: number }; remote: { type: string; port: number } };
    const before = (await a.request<{ pair: Pair }>('pair', {})).pair;
    expect(before).toMatchObject({ local: { type: 'relay' }, remote: { type: 'relay' } });

    // TURN runs over UDP: A loses its relay both ways (tc shapes egress: A's side and T's side of
    // the link); signaling (TCP) stays.
    blockUdpOn(linkA);
    await sleep(OUTAGE_MS);
    unblockUdpOn(linkA);
    const restored = Date.now();
    const mark = b.mark();
    await until(
      async () => {
        try {
          await a.request('send', { data: 'after the outage, via TURN' });
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      'sending on the renewed channel',
    ).catch(async (error: unknown) => {
      console.info(`[node-ice] A–T–B no recovery: a ${JSON.stringify(await a.request('debug', {}))} b ${JSON.stringify(await b.request('debug', {}))}`);
      console.info(`[node-ice] A–T–B events: a ${JSON.stringify(a.events.slice(-30))} b ${JSON.stringify(b.events.slice(-30))}`);
      throw error;
    });
    await b.waitEvent((e) => e.event === 'message' && e.data === 'after the outage, via TURN', 20_000, mark);
    const after = (await a.request<{ pair: Pair }>('pair', {})).pair;
    console.info(
      `[node-ice] A–T–B relay ${OUTAGE_MS / 1000} s outage: a→b delivered ${Date.now() - restored} ms after UDP returned; relay ports ${before.local.port}→${after.local.port}`,
    );
    expect(after).toMatchObject({ local: { type: 'relay' }, remote: { type: 'relay' } });
    expect(after.local.port).not.toBe(before.local.port); // a new allocation
    expect(await a.request('state', {})).toMatchObject({ call, renewed: true, connectionState: 'connected' });
    expect(b.events.filter((e) => e.event === 'incoming')).toHaveLength(1);
    expect([...a.events, ...b.events].filter((e) => e.event === 'closed')).toEqual([]);
    await a.request('hangup');
    await b.waitEvent((e) => e.event === 'closed', 10_000, mark);
  } catch (error) {
    if (process.env.AGENT_LOG) console.info(`[node-ice] coturn log:\n${turn.process.output().split('\n').slice(-80).join('\n')}`);
    throw explainFailure(
      error,
      agents.map((agent) => agent.child.pid),
    );
  } finally {
    unblockUdpOn(linkA);
    await Promise.all(agents.map((agent) => agent.stop()));
    await Promise.all(forwards.map((forward) => forward.close()));
    await stack.close();
    await turn.stop();
    topo.delete();
  }
}
