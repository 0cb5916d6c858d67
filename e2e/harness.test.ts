// Proves the shared e2e harness works on this machine: namespaces and topologies, the
// forwarder, Chromium with fake media in a namespace, Redis, coturn (loopback and A–T–B).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  closeAllBrowsers,
  createLinkedPair,
  createNetns,
  createRelayTopology,
  deleteAllNetns,
  describeWith,
  forwardIntoNetns,
  installWebrtcStats,
  ipCommand,
  launchChromium,
  libdatachannelDeadlocked,
  selectedCandidatePair,
  showsLibdatachannelDeadlock,
  startCoturn,
  startProcess,
  startRedis,
  stopAllProcesses,
  waitForFramesDecoded,
  type Forward,
  type Netns,
  CALL_PAGE_SCRIPT,
  median,
} from '@switchboard/test-utils';

afterAll(async () => {
  await closeAllBrowsers();
  await stopAllProcesses();
  deleteAllNetns();
});

/** A blank page with the call helpers, served from the host namespace. */
async function startPageServer(): Promise<{ server: Server; port: number }> {
  const html = `<!doctype html><meta charset="utf-8"><title>harness</title><script>${CALL_PAGE_SCRIPT}</script>`;
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A TCP listener inside a namespace (node), for reachability checks (no ping on these machines). */
const listenIn = (ns: Netns, host: string, port: number) =>
  startProcess(process.execPath, ['-e', `require('net').createServer((s) => s.end()).listen(${port}, '${host}', () => console.log('up'))`], {
    netns: ns,
    waitForLine: 'up',
    name: `listener:${host}`,
  });

describeWith(['netns'], 'network namespaces', () => {
  it('(a) a new namespace holds only lo, and is deleted without a trace', () => {
    const ns = createNetns('lo');
    expect(ns.addresses()).toEqual(['127.0.0.1']);
    expect(ns.exec('ip', ['-o', 'link', 'show']).trim().split('\n')).toHaveLength(1);
    expect(ipCommand(['netns', 'list'])).toContain(ns.name);
    ns.delete();
    expect(ipCommand(['netns', 'list'])).not.toContain(ns.name);
  });

  it('(b) A and B reach each other over the veth pair until the link goes down', async () => {
    const { a, b, aIp, bIp, link, delete: remove } = createLinkedPair();
    const listener = await listenIn(b, bIp, 7000);
    try {
      expect(a.addresses()).toContain(aIp);
      expect(a.tcpConnects(bIp, 7000)).toBe(true);
      link.down();
      expect(a.tcpConnects(bIp, 7000, 1)).toBe(false);
      link.up();
      expect(a.tcpConnects(bIp, 7000)).toBe(true);
    } finally {
      await listener.stop();
      remove();
    }
  });

  it('(c) A–T–B: A and B reach T, but there is no path between A and B', async () => {
    const topo = createRelayTopology();
    const listeners = await Promise.all([listenIn(topo.t, '0.0.0.0', 7001), listenIn(topo.b, topo.bIp, 7002)]);
    try {
      expect(topo.a.tcpConnects(topo.tIpA, 7001)).toBe(true);
      expect(topo.b.tcpConnects(topo.tIpB, 7001)).toBe(true);
      expect(topo.a.hasRoute(topo.bIp)).toBe(false);
      expect(topo.a.tcpConnects(topo.bIp, 7002, 1)).toBe(false);
      expect(topo.t.exec('cat', ['/proc/sys/net/ipv4/ip_forward']).trim()).toBe('0');
    } finally {
      await Promise.all(listeners.map((l) => l.stop()));
      topo.delete();
    }
  });
});

describeWith(['gdb'], 'known upstream bugs', () => {
  // Frames from a real occurrence (gdb on a stuck node-agent, A–T–B relay call), trimmed.
  const stuck = `Thread 17 (Thread 0x7fa4dcffa6c0 (LWP 2009) "juice poll"):
#3  ___pthread_mutex_lock (mutex=0x7fa2440019c8) at ./nptl/pthread_mutex_lock.c:93
#4  0x00007fa4dfa3b382 in rtc::impl::DtlsTransport::handleTimeout() () from node_datachannel.node
#6  0x00007fa4df9beb7c in rtc::impl::PeerConnection::initDtlsTransport() () from node_datachannel.node
Thread 12 (Thread 0x7fa4df7ff6c0 (LWP 2004) "RTC worker"):
#3  ___pthread_mutex_lock (mutex=0x28084a38) at ./nptl/pthread_mutex_lock.c:128
#4  0x00007fa4dfc89859 in agent_send () from node_datachannel.node
#8  0x00007fa4dfa3ea07 in rtc::impl::DtlsTransport::BioMethodWrite(bio_st*, char const*, int) () from node_datachannel.node`;
  const healthy = `Thread 14 (Thread 0x7fa4de7fd6c0 (LWP 2006) "RTC poll"):
#1  0x00007fa4df9f798f in rtc::impl::PollService::runLoop() () from node_datachannel.node
Thread 13 (Thread 0x7fa4deffe6c0 (LWP 2005) "RTC worker"):
#6  0x00007fa4df9e81e4 in rtc::impl::ThreadPool::dequeue() () from node_datachannel.node`;

  it("libdatachannel's DTLS/TURN deadlock is recognised by its stacks, and a healthy process is not", async () => {
    expect(showsLibdatachannelDeadlock(stuck)).toBe(true);
    expect(showsLibdatachannelDeadlock(healthy)).toBe(false);
    const { spawn } = await import('node:child_process');
    const script =
      "const n = require('node-datachannel'); const pc = new n.PeerConnection('x', { iceServers: [] }); pc.createDataChannel('a'); setTimeout(() => {}, 30000);";
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(libdatachannelDeadlocked(child.pid)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});

describeWith(['redis'], 'redis', () => {
  it('starts, answers PING and stops', async () => {
    const redis = await startRedis();
    expect(await redis.command('PING')).toBe('PONG');
    expect(await redis.command('SET', 'k', 'v')).toBe('OK');
    expect(await redis.command('GET', 'k')).toBe('v');
    await redis.stop();
    expect(redis.process.running()).toBe(false);
    await expect(redis.command('PING')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describeWith(['chromium', 'netns', 'coturn'], 'chromium in a loopback namespace', () => {
  let ns: Netns;
  let page: Page;
  let browser: Browser;
  let forward: Forward;
  let pages: Awaited<ReturnType<typeof startPageServer>>;

  beforeAll(async () => {
    ns = createNetns('chromium');
    pages = await startPageServer();
    forward = await forwardIntoNetns(ns, pages.port);
    browser = await launchChromium({ netns: ns });
    page = await browser.newPage();
    await installWebrtcStats(page);
    await page.goto(forward.origin);
  });

  afterAll(async () => {
    await browser?.close();
    await forward?.close();
    pages?.server.close();
    ns?.delete();
  });

  it('serves the page through the forwarder, as a secure context', async () => {
    expect(await page.evaluate('window.isSecureContext')).toBe(true);
    expect(await page.title()).toBe('harness');
  });

  it('does a local loopback call with fake media over 127.0.0.1 and decodes frames', async () => {
    const times: number[] = [];
    for (let run = 0; run < 3; run++) {
      times.push(await page.evaluate<number>(`loopbackCall({})`));
      if (run < 2) await page.evaluate('hangupAll()');
    }
    const connectedAt = Date.now();
    const frames = await waitForFramesDecoded(page, 'window.pcB', 20);
    const firstFramesMs = Date.now() - connectedAt;
    const rateStart = Date.now();
    const later = await waitForFramesDecoded(page, 'window.pcB', frames + 40);
    const fps = ((later - frames) * 1000) / (Date.now() - rateStart);
    const pair = await selectedCandidatePair(page, 'window.pcB');
    console.log(
      `[harness] loopback call connect ms: ${times.map(Math.round).join(', ')} (median ${Math.round(median(times))}); ` +
        `${frames} frames decoded ${firstFramesMs} ms after connect, then ${fps.toFixed(1)} frames/s; ` +
        `pair ${pair?.local.candidateType}/${pair?.remote.candidateType} ${pair?.local.address}`,
    );
    expect(frames).toBeGreaterThanOrEqual(20);
    expect(pair).toMatchObject({ local: { candidateType: 'host', address: '127.0.0.1' }, remote: { candidateType: 'host' } });
    await page.evaluate('hangupAll()');
  });

  it('coturn in the namespace: a relay-only call connects relay/relay, a wrong secret gathers nothing', async () => {
    const turn = await startCoturn({ netns: ns });
    try {
      const good = [turn.iceServer('alice')];
      expect(await page.evaluate<string[]>(`gatherTypes(${JSON.stringify(good)}, 'relay')`)).toContain('relay');
      const bad = [{ ...good[0], credential: 'd3JvbmcK' }];
      expect(await page.evaluate<string[]>(`gatherTypes(${JSON.stringify(bad)}, 'relay')`)).toEqual([]);

      const ms = await page.evaluate<number>(`loopbackCall({ iceServers: ${JSON.stringify(good)}, policy: 'relay' })`);
      const pair = await selectedCandidatePair(page, 'window.pcA');
      const frames = await waitForFramesDecoded(page, 'window.pcB', 10);
      console.log(
        `[harness] relay call connect ms: ${Math.round(ms)}; pair ${pair?.local.candidateType}/${pair?.remote.candidateType} over ${pair?.local.relayProtocol}; frames ${frames}`,
      );
      expect(pair).toMatchObject({ local: { candidateType: 'relay' }, remote: { candidateType: 'relay' } });
      await turn.process.waitForLine(/ALLOCATE processed, success/);
      await page.evaluate('hangupAll()');
    } finally {
      await turn.stop();
    }
    expect(turn.process.running()).toBe(false);
  });
});

describeWith(['chromium', 'netns', 'coturn'], 'A–T–B: browsers in A and B, coturn in T', () => {
  it('connects only through TURN, relay to relay, and decodes frames both ways', async () => {
    const topo = createRelayTopology();
    const pages = await startPageServer();
    const forwards: Forward[] = [];
    const turn = await startCoturn({ netns: topo.t, listeningIps: [topo.tIpA, topo.tIpB], relayIp: topo.tRelayIp });
    try {
      forwards.push(await forwardIntoNetns(topo.a, pages.port), await forwardIntoNetns(topo.b, pages.port));
      const [browserA, browserB] = await Promise.all([launchChromium({ netns: topo.a }), launchChromium({ netns: topo.b })]);
      const [pageA, pageB] = await Promise.all([browserA.newPage(), browserB.newPage()]);
      for (const [page, forward] of [
        [pageA, forwards[0]!],
        [pageB, forwards[1]!],
      ] as const) {
        await installWebrtcStats(page);
        await page.goto(forward.origin);
      }
      await pageA.exposeFunction('sendToPeer', (text: string) => pageB.evaluate(`onPeerMessage(${JSON.stringify(text)})`));
      await pageB.exposeFunction('sendToPeer', (text: string) => pageA.evaluate(`onPeerMessage(${JSON.stringify(text)})`));

      const iceA = [turn.iceServer('alice', { ip: topo.tIpA })];
      const iceB = [turn.iceServer('bob', { ip: topo.tIpB })];
      await pageB.evaluate(`startPeer({ iceServers: ${JSON.stringify(iceB)}, offerer: false })`);
      const ms = await pageA.evaluate<number>(`startPeer({ iceServers: ${JSON.stringify(iceA)}, offerer: true })`);
      const [framesA, framesB] = await Promise.all([waitForFramesDecoded(pageA, 'window.pc', 10), waitForFramesDecoded(pageB, 'window.pc', 10)]);
      const pairA = await selectedCandidatePair(pageA, 'window.pc');
      console.log(
        `[harness] A–T–B call connect ms: ${Math.round(ms)}; pair at A ${pairA?.local.candidateType}(${pairA?.local.address})/${pairA?.remote.candidateType}(${pairA?.remote.address}); frames A ${framesA}, B ${framesB}`,
      );
      expect(pairA).toMatchObject({ local: { candidateType: 'relay' }, remote: { candidateType: 'relay' } });

      // Without TURN there is no path: ICE fails.
      await Promise.all([pageA.evaluate('hangupAll()'), pageB.evaluate('hangupAll()')]);
      const started = Date.now();
      await pageB.evaluate(`startPeer({ offerer: false })`);
      const failure = await pageA.evaluate<string>(`startPeer({ offerer: true }).then(() => 'connected', (e) => e.message)`);
      console.log(`[harness] A–T–B without TURN: ${failure} after ${Date.now() - started} ms`);
      expect(failure).toMatch(/failed/);
      await Promise.all([browserA.close(), browserB.close()]);
    } finally {
      await Promise.all(forwards.map((f) => f.close()));
      await turn.stop();
      pages.server.close();
      topo.delete();
    }
  });
});
