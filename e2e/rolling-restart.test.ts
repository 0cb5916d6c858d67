/**
 * A rolling restart of a three-node cluster under load (docs/adr/0008-resume.md, "Deploys"):
 * redis-server, three nodes (`switchboard serve --redis`, real processes on fixed ports) behind
 * the round-robin TCP balancer; 200 Node SDK clients in groups of 10 posting numbered messages
 * (the load of resume-chaos*.test.ts),
 * 10 Node ↔ Node data-channel calls among them, and 4 Chromium pages (in a loopback-only
 * namespace, through a forwarder to the balancer) posting too, in 2 video calls. Each node in
 * turn gets SIGTERM, is restarted on its port and must answer /healthz before the next one goes.
 * Every acked message must reach every member of its group once and in order, no call may end
 * (data still flows after each restart, the pages keep decoding), and no cid may change.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ClusterPhone, pagesDir, startLoadBalancer, startNode, tokenFor, type ClusterNode } from './cluster-support/cluster.js';
import { checkDelivery, LoadClient } from './cluster-support/load-client.js';
import {
  closeAllBrowsers,
  createNetns,
  deleteAllNetns,
  describeWith,
  forwardIntoNetns,
  freePort,
  launchChromium,
  startRedis,
  stopAllProcesses,
  type Forward,
  type Netns,
  type RedisHandle,
} from '@switchboard/test-utils';

const CLIENTS = 200;
const GROUP_SIZE = 10;
const NODE_CALLS = 10;
const PAGES = 4;
/** Each client posts every 750 ms (the chaos runs: every 500-1000 ms): about 270 posts/s, 2,700 deliveries/s over the cluster. */
const POST_EVERY_MS = 750;
const debug = (text: string) => {
  if (process.env['ROLLING_DEBUG']) console.info(`[rolling] ${new Date().toISOString().slice(11, 23)} ${text}`);
};

describeWith(['redis', 'chromium', 'netns'], 'rolling restart: three nodes, one at a time, under load', () => {
  let ns: Netns;
  let redis: RedisHandle;
  let pages: ReturnType<typeof pagesDir>;
  const nodes: ClusterNode[] = [];
  const ports: number[] = [];
  const dataDirs: string[] = [];
  let lb: Awaited<ReturnType<typeof startLoadBalancer>>;
  let forward: Forward;
  let browser: Browser;
  const clients: LoadClient[] = [];
  const phones: ClusterPhone[] = [];
  /** Every node process started, restarted ones included (their logs are read at the end). */
  const processes: ClusterNode['process'][] = [];

  const node = (i: number) =>
    startNode({
      redisUrl: redis.url,
      id: `rolling-${i + 1}`,
      staticDir: pages.dir,
      port: ports[i]!,
      // Every client comes from 127.0.0.1; the nodes share this namespace, so no STUN port of their own.
      env: {
        SWITCHBOARD_LIMITS_MAX_CONNECTIONS_PER_ADDRESS: '0',
        SWITCHBOARD_STUN_ENABLED: 'false',
        SWITCHBOARD_DATA_DIR: dataDirs[i]!,
        // Two cores run Redis, three nodes, Chromium and 200 clients: a node's event loop can lag past
        // the default 1 s, which then counts as a stalled Redis (SERVER_UNAVAILABLE). Stalls are still
        // counted and printed below.
        SWITCHBOARD_CLUSTER_COMMAND_TIMEOUT_MS: '5000',
      },
      // A node starts in about a second alone, several under the load of this test on two cores.
      timeoutMs: 30_000,
    }).then((n) => (processes.push(n.process), n));

  beforeAll(async () => {
    ns = createNetns('rolling');
    redis = await startRedis();
    pages = pagesDir();
    for (let i = 0; i < 3; i++) {
      ports.push(await freePort());
      dataDirs.push(mkdtempSync(join(tmpdir(), 'sb-rolling-')));
      nodes.push(await node(i));
    }
    lb = await startLoadBalancer(undefined, ports);
    forward = await forwardIntoNetns(ns, lb.port);
    browser = await launchChromium({ netns: ns, args: ['--autoplay-policy=no-user-gesture-required'] });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const p of phones) await p.close();
    await closeAllBrowsers();
    await forward?.close();
    await stopAllProcesses();
    deleteAllNetns();
    pages?.remove();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('SIGTERM, restart, healthy, next: nothing acked is lost, no call ends, no cid changes', async () => {
    const started = Date.now();
    // 200 Node clients in groups of 10; clients 2k and 2k+1 (k < 10) are in a call.
    for (let i = 0; i < CLIENTS; i++) {
      const name = `n${i}`;
      clients.push(new LoadClient(name, `g${Math.floor(i / GROUP_SIZE)}`, lb.origin, () => tokenFor(name, name)));
    }
    await Promise.all(clients.map((c) => c.connect()));
    debug('clients connected');
    for (let k = 0; k < NODE_CALLS; k++) await clients[2 * k]!.callTo(clients[2 * k + 1]!);
    // 4 pages in group 'pages': p0 calls p1, p2 calls p3 (video, and the labelled data channel).
    for (let i = 0; i < PAGES; i++) phones.push(await ClusterPhone.open(browser, forward.origin, forward.origin, `p${i}`, 'pages'));
    for (let k = 0; k < PAGES / 2; k++) {
      const [a, b] = [phones[2 * k]!, phones[2 * k + 1]!];
      const call = await a.eval<string>(`window.t.call(${JSON.stringify(b.cid)}, { media: { audio: false, video: true } })`);
      await b.waitFor(`window.t.incoming && window.t.incoming.call === ${JSON.stringify(call)}`);
      await b.eval('window.t.accept({ media: { audio: false, video: true } })');
      for (const p of [a, b]) await p.waitFor(`window.t.connectionState() === 'connected'`);
      await a.waitFor(`window.t.labels().includes('default')`);
      await b.waitFor('window.t.frames().then((n) => n >= 10)');
    }
    debug('calls connected');
    const cids = new Map([...clients.map((c) => [c.name, c.cid] as const), ...phones.map((p) => [p.user_id, p.cid] as const)]);
    const setupMs = Date.now() - started;

    // The load: every client and page posts a numbered message every ~200 ms (one in flight).
    for (const c of clients) c.start(POST_EVERY_MS);
    for (const p of phones) await p.eval(pageLoad(p.user_id, POST_EVERY_MS));
    await Promise.all(clients.map((c) => c.until(() => c.acked.length >= 3, 10_000, 'first acks')));

    const resumes = async () =>
      clients.reduce((n, c) => n + c.outcomes.length, 0) +
      (await Promise.all(phones.map((p) => p.eval<number>(`window.t.rt.filter((e) => e.type === 'reconnect' && 'resumed' in e).length`)))).reduce(
        (a, b) => a + b,
        0,
      );
    const figures: string[] = [];
    for (let i = 0; i < 3; i++) {
      const held = (await health(nodes[i]!)).connections;
      const before = await resumes();
      const frames = await Promise.all(phones.map((p) => p.eval<number>('window.t.frames()')));
      const termAt = Date.now();
      await nodes[i]!.process.stop();
      const exit = await nodes[i]!.process.exited;
      expect(exit).toEqual({ code: 0, signal: null }); // a clean shutdown, not the SIGKILL after the grace
      const stoppedMs = Date.now() - termAt;
      debug(`${nodes[i]!.id} exited`);
      // The node restarts while its clients resume on the other two (timed apart).
      const restarted = (async () => {
        const next = await node(i);
        await until(async () => (await health(next).catch(() => null))?.status === 'ok', 10_000, `${next.id} healthy`);
        return { next, healthyMs: Date.now() - termAt };
      })();
      restarted.catch(() => undefined);
      // Every connection the node held resumed elsewhere, and every client is up.
      await until(async () => (await resumes()) - before >= held, 20_000, `${held} resumes after stopping ${nodes[i]!.id}`);
      await until(
        async () =>
          clients.every((c) => c.sb.connectionState === 'open') &&
          (await Promise.all(phones.map((p) => p.eval<string>('window.t.sb.connectionState')))).every((s) => s === 'open'),
        20_000,
        'every client open',
      );
      const resumedMs = Date.now() - termAt;
      debug('every client resumed');
      const { next, healthyMs } = await restarted;
      nodes[i] = next;
      debug(`${next.id} healthy`);
      // The calls never stopped: data both ways on every Node call, frames and data on the pages' calls.
      await Promise.all(
        Array.from({ length: NODE_CALLS }, async (_, k) => {
          const [a, b] = [clients[2 * k]!, clients[2 * k + 1]!];
          await a.roundTrip(b, `after restart ${i + 1} from ${a.name}`);
          await b.roundTrip(a, `after restart ${i + 1} from ${b.name}`);
        }),
      );
      for (let k = 0; k < PAGES / 2; k++) {
        const [a, b] = [phones[2 * k]!, phones[2 * k + 1]!];
        expect(await a.eval(`window.t.send('default', 'after restart ${i + 1}')`)).toBe(true);
        await b.waitFor(`window.t.rtc.some((e) => e.type === 'message' && e.data === 'after restart ${i + 1}')`, 10_000);
      }
      await Promise.all(phones.map((p, j) => p.waitFor(`window.t.frames().then((n) => n >= ${frames[j]! + 10})`, 15_000)));
      figures.push(
        `${nodes[i]!.id}: SIGTERM with ${held} connections; exited after ${stoppedMs} ms; all of them resumed elsewhere and every client open after ${resumedMs} ms (${(await resumes()) - before} resumes); restarted and healthy after ${healthyMs} ms`,
      );
    }

    // Stop the load, then every acked message must arrive everywhere (exactly once, in order).
    await Promise.all(clients.map((c) => c.stop()));
    for (const p of phones) await p.eval('window.__load.stop = true');
    for (const p of phones) await p.waitFor('window.__load.done === true', 10_000);
    const groups = new Map<string, { members: Pick<LoadClient, 'name' | 'received'>[]; acked: Map<string, number[]> }>();
    for (const c of clients) {
      const g = groups.get(c.group) ?? { members: [] as Pick<LoadClient, 'name' | 'received'>[], acked: new Map<string, number[]>() };
      g.members.push(c);
      g.acked.set(c.name, c.acked);
      groups.set(c.group, g);
    }
    const pageGroup = { members: [] as Pick<LoadClient, 'name' | 'received'>[], acked: new Map<string, number[]>() };
    const pageAcked = new Map<string, number[]>();
    for (const p of phones) pageAcked.set(p.user_id, await p.eval<number[]>('window.__load.acked'));
    const lastAcked = (acked: Map<string, number[]>) => [...acked].map(([s, ns]) => [s, ns.at(-1) ?? 0] as const);
    for (const p of phones) {
      // Settled once the last acked message of every page arrived here.
      await p.waitFor(
        `${JSON.stringify(lastAcked(pageAcked))}.every(([s, n]) => window.t.rt.some((e) => e.type === 'message' && e.message && e.message.s === s && e.message.n === n))`,
        10_000,
      );
      const got = await p.eval<Array<[string, number]>>(
        `window.t.rt.filter((e) => e.type === 'message' && e.message && typeof e.message.s === 'string').map((e) => [e.message.s, e.message.n])`,
      );
      const received = new Map<string, number[]>();
      for (const [s, n] of got) received.set(s, [...(received.get(s) ?? []), n]);
      pageGroup.members.push({ name: p.user_id, received });
    }
    pageGroup.acked = pageAcked;
    groups.set('pages', pageGroup);
    // Settled once every Node client has the last acked message of every member of its group.
    for (const c of clients) {
      for (const [s, n] of lastAcked(groups.get(c.group)!.acked)) await c.until(() => (c.received.get(s) ?? []).includes(n), 10_000, `${s}#${n}`);
    }
    const totals = { delivered: 0, lost: 0, duplicates: 0, outOfOrder: 0 };
    for (const { members, acked } of groups.values()) {
      const r = checkDelivery(members, acked);
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r[k];
    }
    const acked = [...groups.values()].reduce((n, g) => n + [...g.acked.values()].reduce((m, ns) => m + ns.length, 0), 0);
    const failed = [...clients.flatMap((c) => c.failed), ...(await Promise.all(phones.map((p) => p.eval<string[]>('window.__load.failed')))).flat()];

    // Same cids, every reconnect resumed, no call ended.
    const outcomes = [
      ...clients.flatMap((c) => c.outcomes),
      ...(
        await Promise.all(
          phones.map((p) => p.eval<Array<{ resumed: boolean; reason?: string }>>(`window.t.rt.filter((e) => e.type === 'reconnect' && 'resumed' in e)`)),
        )
      ).flat(),
    ];
    const notResumed = outcomes.filter((o) => !o.resumed);
    const closed = [...clients.flatMap((c) => c.closed), ...(await Promise.all(phones.map((p) => p.eval<unknown[]>(`window.t.of('rtc:closed')`)))).flat()];
    const changed = [
      ...clients.filter((c) => c.sb.cid !== cids.get(c.name)).map((c) => c.name),
      ...(await Promise.all(phones.map(async (p) => ((await p.currentCid()) === cids.get(p.user_id) ? null : p.user_id)))).filter((x) => x !== null),
    ];
    console.info(`[rolling] setup ${setupMs} ms (${CLIENTS} Node clients, ${NODE_CALLS} Node calls, ${PAGES} pages in ${PAGES / 2} video calls)`);
    for (const f of figures) console.info(`[rolling] ${f}`);
    if (failed.length > 0) console.info(`[rolling] failed posts: ${failed.slice(0, 10).join('; ')}`);
    const stalls = processes.flatMap((p) =>
      p
        .output()
        .split('\n')
        .filter((l) => l.includes('Redis is not answering')),
    );
    if (stalls.length > 0) console.info(`[rolling] the nodes saw Redis stall ${stalls.length} time(s): ${stalls.slice(0, 3).join(' | ')}`);
    console.info(
      `[rolling] ${acked} posts acked, ${failed.length} failed; ${totals.delivered} deliveries checked, ${totals.lost} lost, ${totals.duplicates} duplicates, ${totals.outOfOrder} out of order; ${outcomes.length} reconnects, ${notResumed.length} not resumed; ${closed.length} calls ended; ${changed.length} cids changed; ${Date.now() - started} ms in all`,
    );
    expect(totals).toMatchObject({ lost: 0, duplicates: 0, outOfOrder: 0 });
    expect(failed).toEqual([]);
    expect(notResumed).toEqual([]);
    expect(closed).toEqual([]);
    expect(changed).toEqual([]);
    expect(outcomes.length).toBeGreaterThanOrEqual(CLIENTS + PAGES); // every client's node went down once at least
  }, 120_000);
});

/** A page's load loop: numbered posts to its group, one in flight, acks and failures recorded. */
function pageLoad(name: string, everyMs: number): string {
  return `window.__load = { acked: [], failed: [], stop: false, done: false }; (async () => {
    let n = 0;
    while (!window.__load.stop) {
      n += 1;
      try { await window.t.sb.postRealtime({ s: ${JSON.stringify(name)}, n }, 'pages'); window.__load.acked.push(n); }
      catch (err) { window.__load.failed.push(${JSON.stringify(name)} + '#' + n + ' ' + err.code + ': ' + err.message); }
      await new Promise((r) => setTimeout(r, ${everyMs} * (0.5 + Math.random())));
    }
    window.__load.done = true;
  })(); true`;
}

async function health(node: ClusterNode): Promise<{ status: string; connections: number }> {
  const res = await fetch(`${node.origin}/healthz`);
  return (await res.json()) as { status: string; connections: number };
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
