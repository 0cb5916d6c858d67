/**
 * Group calls (full mesh, @switchboard/client/group) end to end: Chromium pages with fake media
 * in one network namespace, the browser bundle, the real server in this process. Four pages in
 * one call decode video from each of the three others; one leaves and is gone from the others
 * within 2 s; it rejoins; a fifth joins late and connects to all; a page that goes away (closed)
 * disappears too; a member that loses its realtime connection disappears once the server gives up
 * on it and comes back with its new connection; the cap refuses one participant too many with
 * GROUP_CALL_FULL. Figures printed.
 * A 3-way mesh with a Firefox page: firefox.test.ts.
 */
import { expect, it } from 'vitest';
import { describeWith } from '@switchboard/test-utils';
import { Phone } from './calls-support/call-app.js';
import { startSwitchboard } from './calls-support/stack.js';
import { callSuite } from './calls-support/suite.js';
import { installGroupDriver, joinGroupCall, msUntilGone, waitForMesh } from './group-support/group-driver.js';

let groupCounter = 0;
// Small video keeps five pages (each encoding and decoding four streams) within two shared cores.
const MEDIA = { audio: false, video: { width: 160, height: 120, frameRate: 10 } };
// Generous ICE timing: on two cores shared with other suites a starved page can take seconds per check.
const SDK_OPTIONS = { iceRestartTimeoutMs: 30_000, iceDisconnectGraceMs: 10_000 };
const FRAMES = 10;

describeWith(['chromium', 'netns'], 'group calls through the real server', () => {
  const suite = callSuite('group');
  const { phones } = suite;

  async function open(count: number, group: string, from = 0): Promise<Phone[]> {
    const opened: Phone[] = [];
    for (let i = 0; i < count; i++) {
      const phone = await Phone.open(suite.browser, suite.ns, suite.stack.port, { name: `p${from + i}`, ...SDK_OPTIONS }, group);
      await installGroupDriver(phone);
      phones.push(phone);
      opened.push(phone);
    }
    return opened;
  }

  const others = (all: Phone[], one: Phone): Phone[] => all.filter((p) => p !== one);

  it('four pages: full mesh with video from each of the three others; leave, rejoin, a late fifth, a page closed', async () => {
    const group = `mesh-${++groupCounter}`;
    const four = await open(4, group);
    let started = Date.now();
    // One after another (four simultaneous joiners: the unit tests, and the cap test below).
    for (const p of four) expect((await joinGroupCall(p, { media: MEDIA })).ok).toBe(true);
    await Promise.all(four.map((p) => waitForMesh(p, others(four, p), FRAMES)));
    const meshMs = Date.now() - started;
    const frames = await Promise.all(four.map((p) => p.eval<Record<string, number>>('window.g.frames()')));
    for (const [i, f] of frames.entries()) {
      expect(Object.keys(f).sort()).toEqual(
        others(four, four[i]!)
          .map((o) => o.cid)
          .sort(),
      );
      for (const n of Object.values(f)) expect(n).toBeGreaterThanOrEqual(FRAMES);
    }
    // Exactly one call per pair: 3 peer connections per page, none left over from glare.
    for (const p of four) expect(await p.eval('window.t.openPcs()')).toBe(3);

    // Data channel to everyone.
    expect(await four[0]!.eval('window.g.send("default", "hello all")')).toBe(3);
    for (const p of others(four, four[0]!)) await p.waitFor(`window.g.received().includes(${JSON.stringify(`${four[0]!.cid} hello all`)})`);

    // One leaves: gone from the other three within 2 s, its peer connections closed.
    const leaver = four[3]!;
    const rest = four.slice(0, 3);
    const leftAt = await leaver.eval<number>('window.g.leave()');
    const goneMs = await Promise.all(rest.map((p) => msUntilGone(p, leaver.cid, leftAt)));
    for (const ms of goneMs) expect(ms).toBeLessThan(2000);
    const reasons = await Promise.all(rest.map((p) => p.eval<{ cid: string; reason: string }[]>('window.g.of("peer:left")')));
    for (const r of reasons) expect(r.find((e) => e.cid === leaver.cid)?.reason).toBe('left');
    await leaver.waitFor('window.t.openPcs() === 0 && window.t.liveTracks() === 0');
    // The app's realtime callback saw none of the mesh's calls, and of its messages at most the
    // joins that arrived before this page itself had joined (no `here`, no `leave`).
    expect(await rest[0]!.eval('window.t.rt.filter((e) => e.type === "rtc:incoming" || e.type === "rtc:closed").length')).toBe(0);
    expect(await rest[0]!.eval('window.t.rt.filter((e) => (e.type === "message" || e.type === "private") && e.message.op !== "join").length')).toBe(0);

    // It rejoins: back on all three, with video both ways.
    started = Date.now();
    expect((await joinGroupCall(leaver, { media: MEDIA })).ok).toBe(true);
    await Promise.all(four.map((p) => waitForMesh(p, others(four, p), FRAMES)));
    const rejoinMs = Date.now() - started;

    // A fifth joins late: it connects to all four, and all four to it.
    const [fifth] = await open(1, group, 4);
    const five = [...four, fifth!];
    started = Date.now();
    const late = await joinGroupCall(fifth!, { media: MEDIA });
    expect(late.ok).toBe(true);
    await Promise.all(five.map((p) => waitForMesh(p, others(five, p), FRAMES)));
    const lateMs = Date.now() - started;
    const lateFrames = await fifth!.eval<Record<string, number>>('window.g.frames()');

    // A page that goes away (closed, no leave()) disappears from the other four too.
    const closed = four[1]!;
    started = Date.now();
    await closed.context.close();
    const survivors = five.filter((p) => p !== closed);
    const closedGoneMs = await Promise.all(survivors.map((p) => msUntilGone(p, closed.cid, started)));
    for (const ms of closedGoneMs) expect(ms).toBeLessThan(2000);
    for (const p of survivors) expect(await p.eval('window.g.connected().length')).toBe(3);

    console.info(
      `[group] 4 pages joining one after another: full mesh, ≥${FRAMES} frames from each of 3 others on every page in ${meshMs} ms; ` +
        `leave → gone on the other 3 after ${goneMs.join('/')} ms; rejoin → full mesh again in ${rejoinMs} ms; ` +
        `late 5th → connected to all 4 (frames ${Object.values(lateFrames).join('/')}) in ${lateMs} ms; ` +
        `page closed → gone on the other 4 after ${closedGoneMs.join('/')} ms`,
    );
  }, 240_000);

  it('a member whose realtime connection is lost disappears from the others once the server gives up on it, and comes back with its new connection', async () => {
    // A short resume window: the server gives up on a dropped connection after 2 s instead of 30 s.
    const short = await startSwitchboard({ resume: { windowMs: 2000 } });
    try {
      const group = `lost-${++groupCounter}`;
      const pages: Phone[] = [];
      for (let i = 0; i < 3; i++) {
        const phone = await Phone.open(suite.browser, suite.ns, short.port, { name: `l${i}`, ...SDK_OPTIONS }, group);
        await installGroupDriver(phone);
        phones.push(phone);
        pages.push(phone);
      }
      for (const p of pages) expect((await joinGroupCall(p, {})).ok).toBe(true);
      await Promise.all(pages.map((p) => waitForMesh(p, others(pages, p), 0)));
      const lost = pages[2]!;
      const oldCid = lost.cid;
      const cutAt = Date.now();
      await lost.cut();
      const goneMs = await Promise.all(pages.slice(0, 2).map((p) => msUntilGone(p, oldCid, cutAt, 20_000)));
      const reasons = await Promise.all(pages.slice(0, 2).map((p) => p.eval<{ cid: string; reason: string }[]>('window.g.of("peer:left")')));
      await lost.restore();
      // Not resumed (the window passed): a new cid, and the group call announces it again by itself.
      await lost.waitFor(`window.t.rt.some((e) => e.type === 'reconnect' && e.resumed === false)`, 30_000);
      lost.cid = await lost.eval<string>('window.t.sb.cid');
      expect(lost.cid).not.toBe(oldCid);
      const backAt = Date.now();
      await Promise.all(pages.map((p) => waitForMesh(p, others(pages, p), 0)));
      console.info(
        `[group] lost realtime connection (resume window 2 s): gone on the others after ${goneMs.join('/')} ms ` +
          `(${reasons.map((r) => r.find((e) => e.cid === oldCid)?.reason).join('/')}); back in the mesh with its new cid ${Date.now() - backAt} ms after it reconnected`,
      );
    } finally {
      await short.close();
    }
  }, 120_000);

  it('the cap: with maxParticipants 3 a fourth joiner gets GROUP_CALL_FULL and nobody dials it; 1:1 connectRTC works beside the mesh', async () => {
    const group = `cap-${++groupCounter}`;
    const pages = await open(4, group);
    const three = pages.slice(0, 3);
    // Three at once: simultaneous joiners find each other, and the dial rule settles who calls whom.
    const joined = await Promise.all(three.map((p) => joinGroupCall(p, { maxParticipants: 3 })));
    expect(joined.every((j) => j.ok)).toBe(true);
    await Promise.all(three.map((p) => waitForMesh(p, others(three, p), 0)));
    const fourth = pages[3]!;
    const refused = await joinGroupCall(fourth, { maxParticipants: 3 });
    expect(refused).toMatchObject({ ok: false, code: 'GROUP_CALL_FULL' });
    expect(await fourth.eval('window.t.openPcs()')).toBe(0);
    for (const p of three) expect(await p.eval('window.g.peers().length')).toBe(2);

    // A 1:1 call from the refused page to a member still works next to that member's mesh.
    const member = three[0]!;
    const call = await fourth.call(member.cid, { media: { audio: true } });
    await member.waitFor(`window.t.incoming && window.t.incoming.call === ${JSON.stringify(call)}`);
    await member.accept({});
    await fourth.waitFor(`window.t.connectionState() === 'connected'`);
    expect(await member.eval('window.g.connected().length')).toBe(2);
    await fourth.eval('window.t.hangup()');
    await member.waitFor(`window.t.of('rtc:closed').length === 1`);
    expect(await member.eval('window.g.connected().length')).toBe(2);
  }, 120_000);
});
