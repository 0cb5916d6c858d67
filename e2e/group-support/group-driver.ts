/**
 * Group calls in a test page: installs `window.g` next to the call page's `window.t` (the same
 * Switchboard instance, the same browser bundle, imported again by URL so it is the same
 * module). Works with any page driver that evaluates expressions (Playwright's Phone,
 * puppeteer's FirefoxPhone).
 */
export const GROUP_DRIVER_SCRIPT = String.raw`
(async () => {
  const { joinGroupCall } = await import('/switchboard.browser.js');
  const g = {
    call: null, events: [], error: null,
    async join(params) {
      g.error = null;
      try {
        g.call = await joinGroupCall(window.t.sb, params, (e) => g.on(e));
        return { ok: true, peers: g.call.peers.length };
      } catch (err) {
        g.error = { code: err.code, message: err.message };
        return { ok: false, code: err.code, message: err.message };
      }
    },
    on(e) {
      if (e.type === 'peer:rtc') return;
      // Wall-clock (epoch) milliseconds: comparable across pages of one machine.
      const row = { type: e.type, at: performance.timeOrigin + performance.now() };
      if (e.peer) row.cid = e.peer.cid;
      for (const k of ['reason', 'state', 'label', 'data']) if (typeof e[k] === 'string') row[k] = e[k];
      g.events.push(row);
    },
    peers() { return g.call ? g.call.peers.map((p) => p.cid).sort() : []; },
    connected() { return g.call ? g.call.peers.filter((p) => p.state === 'connected').map((p) => p.cid).sort() : []; },
    async frames() {
      const out = {};
      for (const p of g.call ? g.call.peers : []) out[p.cid] = p.target ? await window.__sbStats.framesDecoded(p.target) : 0;
      return out;
    },
    async framesFromAll(cids, n) {
      const f = await g.frames();
      return cids.every((c) => (f[c] || 0) >= n);
    },
    send(label, data) { return g.call ? g.call.send(label, data) : 0; },
    received() { return g.events.filter((e) => e.type === 'peer:message').map((e) => e.cid + ' ' + e.data); },
    async leave() {
      g.leftAt = performance.timeOrigin + performance.now();
      if (g.call) { const c = g.call; g.call = null; await c.leave(); }
      return g.leftAt;
    },
    of(type) { return g.events.filter((e) => e.type === type); },
  };
  window.g = g;
  return true;
})()
`;

export interface GroupPage {
  cid: string;
  eval<T>(expression: string): Promise<T>;
  waitFor(expression: string, timeout?: number): Promise<unknown>;
}

export async function installGroupDriver(page: GroupPage): Promise<void> {
  await page.eval(GROUP_DRIVER_SCRIPT);
  await page.waitFor('window.g !== undefined');
}

/** Joins the group call; resolves with what join() returned in the page. */
export function joinGroupCall(page: GroupPage, params: Record<string, unknown>): Promise<{ ok: boolean; peers?: number; code?: string }> {
  return page.eval(`window.g.join(${JSON.stringify(params)})`);
}

/** Waits until `page` is connected to exactly `others` and decodes at least `frames` frames from each. */
export async function waitForMesh(page: GroupPage, others: GroupPage[], frames: number, timeout = 90_000): Promise<void> {
  const cids = JSON.stringify(others.map((o) => o.cid).sort());
  try {
    await page.waitFor(`JSON.stringify(window.g.connected()) === ${JSON.stringify(cids)}`, timeout);
    if (frames > 0) await page.waitFor(`window.g.framesFromAll(${cids}, ${frames})`, timeout);
  } catch (error) {
    const state = await page
      .eval<unknown>(
        '(async () => ({ frames: await window.g.frames(), connected: window.g.connected(), events: window.g.events.slice(-20), rt: window.t.rt.slice(-5) }))()',
      )
      .catch(() => null);
    throw new Error(`${(error as Error).message}\n${page.cid} expected ${cids}; state: ${JSON.stringify(state)}`, { cause: error });
  }
}

/**
 * Waits until `cid` is no longer among `page`'s peers; resolves with the milliseconds from `since`
 * (epoch ms) to the page's `peer:left` event, as the page's own clock saw it.
 */
export async function msUntilGone(page: GroupPage, cid: string, since: number, timeout = 10_000): Promise<number> {
  await page.waitFor(`!window.g.peers().includes(${JSON.stringify(cid)})`, timeout);
  const at = await page.eval<number>(`window.g.of('peer:left').filter((e) => e.cid === ${JSON.stringify(cid)}).pop().at`);
  return Math.round(at - since);
}
