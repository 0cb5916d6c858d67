/**
 * Page-side WebRTC helpers (plain JavaScript, for a <script> tag or page.evaluate) used by the
 * harness tests and handy for quick experiments. Needs WEBRTC_STATS_SCRIPT (installWebrtcStats).
 *
 *   loopbackCall({iceServers?, policy?})  two RTCPeerConnections in one page (window.pcA → window.pcB,
 *                                        fake camera both ways); resolves with ms offer → connected
 *   hangupAll()                          closes them and stops the tracks
 *   gatherTypes(iceServers, policy)      candidate types gathered by a data-only connection
 *   startPeer({iceServers?, policy?, offerer})   one side of a two-page call (window.pc); signals go
 *                                        out through window.sendToPeer(text) (expose it with
 *                                        page.exposeFunction) and come in through onPeerMessage(text);
 *                                        the offerer resolves with ms until connected
 */
export const CALL_PAGE_SCRIPT = String.raw`
window.__opened = [];
async function camera() {
  const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  window.__opened.push(stream);
  return stream;
}
async function loopbackCall({ iceServers = [], policy = 'all' } = {}) {
  const config = { iceServers, iceTransportPolicy: policy };
  const a = new RTCPeerConnection(config);
  const b = new RTCPeerConnection(config);
  window.pcA = a; window.pcB = b;
  a.onicecandidate = (e) => { if (e.candidate) b.addIceCandidate(e.candidate); };
  b.onicecandidate = (e) => { if (e.candidate) a.addIceCandidate(e.candidate); };
  for (const [pc, stream] of [[a, await camera()], [b, await camera()]]) stream.getTracks().forEach((t) => pc.addTrack(t, stream));
  const start = performance.now();
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
  await Promise.all([window.__sbStats.waitForConnected(a), window.__sbStats.waitForConnected(b)]);
  return performance.now() - start;
}
function hangupAll() {
  for (const pc of [window.pcA, window.pcB, window.pc]) if (pc) pc.close();
  for (const s of window.__opened.splice(0)) s.getTracks().forEach((t) => t.stop());
}
async function gatherTypes(iceServers, policy = 'all') {
  const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: policy });
  pc.createDataChannel('probe');
  const types = [];
  const done = new Promise((resolve) => {
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') resolve(); };
  });
  pc.onicecandidate = (e) => { if (e.candidate && e.candidate.candidate) types.push(e.candidate.type); };
  await pc.setLocalDescription();
  await done;
  pc.close();
  return types;
}
async function startPeer({ iceServers = [], policy = 'all', offerer }) {
  const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: policy });
  window.pc = pc;
  const pending = [];
  const send = (msg) => { window.sendToPeer(JSON.stringify(msg)); };
  pc.onicecandidate = (e) => { if (e.candidate) send({ candidate: e.candidate.toJSON() }); };
  window.onPeerMessage = async (text) => {
    const msg = JSON.parse(text);
    if (msg.description) {
      await pc.setRemoteDescription(msg.description);
      for (const c of pending.splice(0)) await pc.addIceCandidate(c);
      if (msg.description.type === 'offer') { await pc.setLocalDescription(); send({ description: pc.localDescription }); }
    } else if (msg.candidate) {
      if (pc.remoteDescription) await pc.addIceCandidate(msg.candidate); else pending.push(msg.candidate);
    }
  };
  const stream = await camera();
  stream.getTracks().forEach((t) => pc.addTrack(t, stream));
  if (!offerer) return 0;
  const start = performance.now();
  await pc.setLocalDescription();
  send({ description: pc.localDescription });
  await window.__sbStats.waitForConnected(pc, 40000);
  return performance.now() - start;
}
`;

/** The median of a non-empty list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
