/**
 * The page the TURN e2e suite loads in Chromium (served by `switchboard serve --static` in T):
 * the browser bundle driven through `window.t`, and the Phone handle the suite holds per page.
 */
import type { BrowserContext, Page } from 'playwright-core';

export const PAGE_SCRIPT = String.raw`
import { Switchboard, switchboardInternals } from '/switchboard.browser.js';
const t = {
  sb: null, events: [], incoming: null, resolved: null, callError: null, connectedAt: null, startedAt: null, acceptedAt: null,
  async connect(options) {
    t.sb = new Switchboard({ url: location.origin, ...options });
    await t.sb.connectRealtime((e) => t.onEvent(e));
    await t.sb.joinRealtime({ group: 'turn' });
    return t.sb.cid;
  },
  onEvent(e) {
    const row = { type: e.type, at: performance.now() };
    if (e.type === 'rtc:closed') {
      const m = e.message || {};
      row.message = { reason: m.reason, call: m.call, error: m.error ? { code: m.error.code, message: m.error.message } : null };
    }
    t.events.push(row);
    if (e.type === 'rtc:incoming') t.incoming = e;
  },
  rtcEvent(e) {
    if (e.type === 'connectionstatechange' && e.state === 'connected' && t.connectedAt === null) t.connectedAt = performance.now();
  },
  async call(cid, params) {
    t.startedAt = performance.now();
    const c = await t.sb.connectRTC({ cid, ...params }, (e) => t.rtcEvent(e));
    t.connector = c;
    c.connection.then((r) => { t.resolved = r; }, (err) => { t.callError = { code: err.code, message: err.message }; });
    return c.call;
  },
  async accept(params) {
    t.acceptedAt = performance.now();
    const r = await t.incoming.connectRTC(params, (e) => t.rtcEvent(e));
    t.resolved = r;
    return r ? r.call : null;
  },
  state() { return t.resolved ? t.resolved.target.connectionState : null; },
  frames() { return t.resolved ? window.__sbStats.framesDecoded(t.resolved.target) : 0; },
  pair() { return t.resolved ? window.__sbStats.selectedPair(t.resolved.target) : null; },
  hangup() { (t.resolved || t.connector).hangup(); },
  closed() { return t.events.filter((e) => e.type === 'rtc:closed'); },
  ice() { return switchboardInternals(t.sb).host.iceServers(); },
  /** What a relay-only connection gathers with these ICE servers: the first relay candidate or TURN error (or all of gathering). */
  async relayCandidates(iceServers) {
    const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
    pc.createDataChannel('probe');
    const found = [];
    const errors = [];
    const done = new Promise((resolve) => {
      pc.onicecandidate = (e) => { if (e.candidate && e.candidate.type === 'relay') { found.push(e.candidate.candidate); resolve(); } };
      pc.onicecandidateerror = (e) => { if (/^turns?:/.test(e.url || '')) { errors.push(e.errorCode); resolve(); } };
      pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') resolve(); };
      setTimeout(resolve, 10000);
    });
    await pc.setLocalDescription();
    await done;
    pc.close();
    return { found, errors };
  },
  clear() { t.events.length = 0; t.incoming = null; t.resolved = null; t.connector = null; t.callError = null; t.connectedAt = null; },
};
window.t = t;
window.__ready = true;
`;
export const PAGE_HTML = '<!doctype html><meta charset="utf-8"><title>turn e2e</title><script type="module" src="/turn-app.js"></script>';

export interface Phone {
  page: Page;
  context: BrowserContext;
  cid: string;
  eval<T>(expression: string): Promise<T>;
  waitFor(expression: string, timeoutMs?: number): Promise<void>;
}
