/**
 * A test "phone": one page running the Switchboard browser bundle against the real server.
 * The page side (CALL_APP_SCRIPT, plain JavaScript, an ES module) records every realtime and
 * RTC callback event and exposes `window.t`; the Node side (Phone) drives it.
 * Each phone has its own browser context and its own forwarder into the namespace, so a test
 * can cut one phone's realtime connection (close its forwarder) without touching the others.
 */
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { forwardIntoNetns, installWebrtcStats, type Forward, type Netns } from '@switchboard/test-utils';

export const BUNDLE_PATH = fileURLToPath(new URL('../../packages/client/dist/switchboard.browser.js', import.meta.url));

export const CALL_APP_SCRIPT = String.raw`
import { Switchboard, switchboardInternals } from '/switchboard.browser.js';

// Count peer connections and captured tracks, to prove that calls leave nothing behind.
const NativePC = window.RTCPeerConnection;
window.__pcs = [];
window.RTCPeerConnection = class extends NativePC {
  constructor(config) { super(config); window.__pcs.push(this); }
};
window.__streams = [];
const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (c) => { const s = await gum(c); window.__streams.push(s); return s; };

const pick = (e) => {
  const out = { type: e.type, at: performance.now() };
  for (const k of ['state', 'label', 'iceState', 'signalingState', 'connectionState']) if (typeof e[k] === 'string') out[k] = e[k];
  if (typeof e.data === 'string') out.data = e.data;
  return out;
};

const t = {
  sb: null, rt: [], rtc: [], incoming: null, connector: null, resolved: null, callError: null, cid: null,
  liveCalls() { return switchboardInternals(t.sb).calls.active.length; },
  async connect(options) {
    t.sb = new Switchboard({ url: location.origin, ...options });
    const connected = await t.sb.connectRealtime((e) => t.onRealtime(e));
    t.cid = t.sb.cid;
    return { cid: t.sb.cid, user: t.sb.user };
  },
  join(group) { return t.sb.joinRealtime({ group }); },
  onRealtime(e) {
    const row = { type: e.type, at: performance.now() };
    for (const k of ['sender', 'sender_cid', 'sender_rid', 'code', 'call', 'sender_name', 'media']) if (k in e) row[k] = e[k];
    // The reconnect event after an attempt: resumed or not, why, and the cids before and after.
    if (e.type === 'reconnect') for (const k of ['resumed', 'reason', 'cid', 'previousCid', 'attempt']) if (k in e) row[k] = e[k];
    if (e.type !== 'rtc:incoming') row.message = e.message;
    if (e.type === 'rtc:closed' && e.message.error) row.message = { ...e.message, error: { code: e.message.error.code, message: e.message.error.message } };
    row.hasConnectRTC = typeof e.connectRTC === 'function';
    row.hasHangup = typeof e.hangup === 'function';
    t.rt.push(row);
    if (e.type === 'rtc:incoming') t.incoming = e;
    if (e.type === 'success' && t.sb && t.sb.cid) t.cid = t.sb.cid;
  },
  cb(e) { t.rtc.push(pick(e)); },
  // to: a cid ("cid:…") rings that connection; a user_id rings every connection of that user.
  async call(to, params = {}) {
    t.resolved = null; t.callError = null;
    t.callStarted = performance.now();
    t.connector = await t.sb.connectRTC({ ...(to.startsWith('cid:') ? { cid: to } : { user_id: to }), ...params }, (e) => t.cb(e));
    t.connector.connection.then((r) => { t.resolved = r; t.resolvedAt = performance.now(); }, (err) => { t.callError = { code: err.code, message: err.message, name: err.name }; });
    return t.connector.call;
  },
  async callError_(cid, params = {}) {
    try { await t.sb.connectRTC({ cid, ...params }, (e) => t.cb(e)); return null; } catch (err) { return { code: err.code, message: err.message }; }
  },
  async accept(params = {}) {
    t.acceptedAt = performance.now();
    const r = await t.incoming.connectRTC(params, (e) => t.cb(e));
    if (r) t.resolved = r;
    return r ? r.call : null;
  },
  reject(reason) { t.incoming.hangup(reason); },
  hangup() { (t.resolved || t.connector).hangup(); },
  connectionState() { return t.resolved ? t.resolved.target.connectionState : null; },
  send(label, text) { const ch = t.resolved && t.resolved.channels[label]; if (!ch || ch.readyState !== 'open') return false; ch.send(text); return true; },
  labels() { return t.resolved ? Object.keys(t.resolved.channels) : []; },
  async frames() { return t.resolved ? window.__sbStats.framesDecoded(t.resolved.target) : 0; },
  async pair() { return t.resolved ? window.__sbStats.selectedPair(t.resolved.target) : null; },
  async shareScreen() {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
    t.screen = stream;
    t.resolved.target.addTrack(stream.getVideoTracks()[0], stream);
  },
  openPcs() { return window.__pcs.filter((pc) => pc.signalingState !== 'closed').length; },
  liveTracks() { return window.__streams.flatMap((s) => s.getTracks()).filter((tr) => tr.readyState === 'live').length; },
  connectedAfter(since) {
    const e = t.rtc.find((x) => x.type === 'connectionstatechange' && x.state === 'connected');
    return e && since ? e.at - since : null;
  },
  of(type) { return t.rt.filter((e) => e.type === type); },
  clear() { t.rt.length = 0; t.rtc.length = 0; t.incoming = null; t.connector = null; t.resolved = null; t.callError = null; },
};
window.t = t;
window.__ready = true;
`;

export const CALL_PAGE = '<!doctype html><meta charset="utf-8"><title>phone</title><script type="module" src="/call-app.js"></script>';

let listenPorts = 20_000;

export class Phone {
  cid = '';
  user_id = '';
  group: string | null = null;

  private constructor(
    readonly page: Page,
    readonly context: BrowserContext,
    public forward: Forward,
    private readonly ns: Netns,
    private readonly serverPort: number,
  ) {}

  /** A page in `ns` talking to the server on the host's `serverPort` through its own forwarder. */
  static async open(browser: Browser, ns: Netns, serverPort: number, options: Record<string, unknown>, group: string | null): Promise<Phone> {
    const forward = await forwardIntoNetns(ns, serverPort, { listenPort: listenPorts++ });
    const context = await browser.newContext();
    const page = await context.newPage();
    if (process.env['CALLS_DEBUG']) {
      const label = String(options['name'] ?? 'phone');
      page.on('console', (m) => console.log(`[${label}] ${m.text()}`));
      page.on('pageerror', (e) => console.log(`[${label}] pageerror ${e.message}`));
    }
    await installWebrtcStats(page);
    const phone = new Phone(page, context, forward, ns, serverPort);
    await page.goto(`${forward.origin}/call.html`);
    await page.waitForFunction('window.__ready === true');
    const { cid, user } = (await page.evaluate((o) => window.t.connect(o), options)) as { cid: string; user: { user_id: string } };
    phone.cid = cid;
    phone.user_id = user.user_id;
    if (group) await page.evaluate((g) => window.t.join(g), group);
    phone.group = group;
    return phone;
  }

  /** Cuts this phone's TCP path to the server (its realtime connection drops). */
  async cut(): Promise<void> {
    await this.forward.close();
  }

  /** Restores the path on the same port: the SDK reconnects (resumes, within the server's window). */
  async restore(): Promise<void> {
    this.forward = await forwardIntoNetns(this.ns, this.serverPort, { listenPort: this.forward.port });
  }

  eval<T>(expression: string): Promise<T> {
    return this.page.evaluate(expression) as Promise<T>;
  }

  /** connectRTC from this phone; resolves with the call id (the connection settles later). */
  /** Calls a connection (`cid:…`) or rings every connection of a user (a user_id). */
  call(to: string, params: Record<string, unknown> = {}): Promise<string> {
    return this.eval<string>(`window.t.call(${JSON.stringify(to)}, ${JSON.stringify(params)})`);
  }

  /** Accepts the last rtc:incoming; resolves with the call id, or null when it no longer rings. */
  accept(params: Record<string, unknown> = {}): Promise<string | null> {
    return this.eval<string | null>(`window.t.accept(${JSON.stringify(params)})`);
  }

  reject(reason?: 'busy'): Promise<void> {
    return this.eval<void>(`window.t.reject(${reason ? JSON.stringify(reason) : ''})`);
  }

  /** Polls `expression` in the page (awaiting it when it is a promise) until it is truthy. */
  waitFor(expression: string, timeout = 20_000): Promise<unknown> {
    return pollPage(this.page, expression, timeout);
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
    await this.forward.close().catch(() => undefined);
  }
}

export async function pollPage(page: Page, expression: string, timeout = 20_000): Promise<unknown> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await page.evaluate(expression);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for: ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

declare global {
  interface Window {
    t: {
      connect(options: Record<string, unknown>): Promise<{ cid: string; user: { user_id: string } }>;
      join(group: string): Promise<unknown>;
    };
  }
}
