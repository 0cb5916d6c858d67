/**
 * What bench/group-mesh.mjs runs on: the server (in the benchmark process) serving a small page
 * that joins a group call with the browser bundle, the page's getStats sums, and CPU time read
 * from CDP (per page) and /proc (every process this one started, i.e. the whole browser).
 */
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';

const PAGE = `<!doctype html><meta charset="utf-8"><title>mesh bench</title><script type="module">
import { Switchboard, joinGroupCall } from '/switchboard.browser.js';
const NativePC = window.RTCPeerConnection;
const pcs = [];
window.RTCPeerConnection = class extends NativePC { constructor(c) { super(c); pcs.push(this); } };
const m = {
  sb: null, call: null,
  async connect(group, name) {
    m.sb = new Switchboard({ url: location.origin, name, iceRestartTimeoutMs: 30000, iceDisconnectGraceMs: 10000 });
    await m.sb.connectRealtime(() => {});
    await m.sb.joinRealtime({ group });
    return m.sb.cid;
  },
  async join(media) {
    m.call = await joinGroupCall(m.sb, { media, maxParticipants: 6 }, () => {});
    return m.call.peers.length;
  },
  settings() {
    const track = m.call && m.call.media && m.call.media.getVideoTracks()[0];
    if (!track) return null;
    const s = track.getSettings();
    return { width: s.width, height: s.height, frameRate: s.frameRate };
  },
  openPcs() { return pcs.filter((pc) => pc.signalingState !== 'closed').length; },
  // Peers connected and decoding at least n video frames from each: the mesh is up.
  async ready(n, others) {
    const peers = m.call ? m.call.peers.filter((p) => p.state === 'connected' && p.target) : [];
    if (peers.length !== others) return false;
    for (const p of peers) {
      let frames = 0;
      (await p.target.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0; });
      if (frames < n) return false;
    }
    return true;
  },
  // RTP payload bytes (bytesSent / bytesReceived, headers excluded) summed over every peer connection.
  async bytes() {
    let sent = 0, received = 0, framesSent = 0, framesDecoded = 0;
    for (const pc of pcs) {
      if (pc.signalingState === 'closed') continue;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp') { sent += s.bytesSent || 0; framesSent += s.framesEncoded || 0; }
        if (s.type === 'inbound-rtp') { received += s.bytesReceived || 0; framesDecoded += s.framesDecoded || 0; }
      });
    }
    return { sent, received, framesSent, framesDecoded, at: performance.timeOrigin + performance.now() };
  },
  async leave() { if (m.call) { const c = m.call; m.call = null; await c.leave(); } },
};
window.m = m; window.__ready = true;
</script>`;

/** The server with guests on, plus the page and the bundle, on 127.0.0.1:0. */
export async function startStack(root) {
  const { createServer } = await import('@switchboard/server');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-mesh-'));
  const server = createServer({ host: '127.0.0.1', tls: { mode: 'off' }, logLevel: 'silent', dataDir, guests: true });
  const bundle = readFileSync(path.join(root, 'packages/client/dist/switchboard.browser.js'));
  const http = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x').pathname;
    if (url === '/mesh.html') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    if (url === '/switchboard.browser.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    server.handleRequest(req, res);
  });
  server.attach(http, { http: false });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${http.address().port}`,
    async close() {
      await server.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The renderer's CPU seconds (user + system, every thread: WebRTC's encoders and decoders run
 * there) from CDP Performance.getMetrics "ProcessTime". Each page has its own browser context,
 * hence its own renderer process.
 */
export async function pageCpu(session) {
  const { metrics } = await session.send('Performance.getMetrics');
  const value = metrics.find((x) => x.name === 'ProcessTime')?.value;
  if (typeof value !== 'number') throw new Error('Performance.getMetrics has no ProcessTime in this Chromium');
  return value;
}

const TICKS = 100; // USER_HZ: 100 on Linux

/** CPU seconds (utime + stime) of every live descendant of this process, by process type. */
export function descendantsCpu(rootPid = process.pid) {
  const procs = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(entry), { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / TICKS, pid: Number(entry) });
    } catch {
      // gone meanwhile
    }
  }
  const out = { total: 0, renderers: 0, rendererCount: 0 };
  const isDescendant = (p) => {
    for (let hops = 0; p && hops < 64; hops++) {
      if (p.ppid === rootPid) return true;
      p = procs.get(p.ppid);
    }
    return false;
  };
  for (const p of procs.values()) {
    if (!isDescendant(p)) continue;
    out.total += p.cpu;
    let cmdline;
    try {
      cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes('--type=renderer')) {
      out.renderers += p.cpu;
      out.rendererCount++;
    }
  }
  return out;
}
