/**
 * TURN through a real WebRTC stack (node-datachannel / libdatachannel): relay-only candidate
 * gathering with the server's REST credentials, and a relay-only data channel between two
 * peers in this process. The native PeerConnection takes iceServers as
 * `{hostname, port, username, password, relayType}`: its W3C polyfill would build
 * `turn:user:pass@host` URLs, which break REST usernames (they contain ':').
 * libdatachannel's ICE agent (libjuice) relays over UDP only, so TCP/TLS TURN URLs are
 * checked by the STUN client's Allocate instead.
 */
import type * as Ndc from 'node-datachannel';
import { relayType, type IceUrl } from './ice-urls.js';

export type NativeStack = typeof Ndc;

/** node-datachannel when it is installed (it comes with @switchboard/client), else null. */
export async function loadNativeStack(): Promise<NativeStack | null> {
  try {
    const mod = (await import('node-datachannel')) as NativeStack & { default?: NativeStack };
    return typeof mod.PeerConnection === 'function' ? mod : (mod.default ?? null);
  } catch {
    return null;
  }
}

export interface Credentials {
  username: string;
  credential: string;
}

function peer(ndc: NativeStack, name: string, url: IceUrl, creds: Credentials, bindAddress?: string): Ndc.PeerConnection {
  return new ndc.PeerConnection(name, {
    iceServers: [{ hostname: url.host, port: url.port, username: creds.username, password: creds.credential, relayType: relayType(url) }],
    iceTransportPolicy: 'relay',
    ...(bindAddress ? { bindAddress } : {}),
  });
}

function selectedPair(pc: Ndc.PeerConnection): string | null {
  try {
    const selected = pc.getSelectedCandidatePair();
    return selected ? `${selected.local.type}/${selected.remote.type}` : null;
  } catch {
    return null;
  }
}

const stripA = (c: string) => (c.startsWith('a=') ? c.slice(2) : c);

export interface GatherResult {
  /** Relay candidates gathered (SDP candidate lines). */
  relay: string[];
  ms: number;
  /** Gathering ended by the timeout rather than by completing. */
  timedOut: boolean;
}

/** Relay-only gathering: resolves at the first relay candidate, when gathering completes, or at the timeout. */
export async function gatherRelayCandidates(ndc: NativeStack, url: IceUrl, creds: Credentials, timeoutMs: number, bindAddress?: string): Promise<GatherResult> {
  const pc = peer(ndc, 'switchboard-doctor-gather', url, creds, bindAddress);
  const started = performance.now();
  const relay: string[] = [];
  let channel: Ndc.DataChannel | null = null;
  try {
    const timedOut = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(true), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(false);
      };
      pc.onLocalCandidate((candidate) => {
        if (/ typ relay/.test(candidate)) {
          relay.push(stripA(candidate));
          done();
        }
      });
      // "complete" and the last candidate arrive in either order: give candidates a moment.
      pc.onGatheringStateChange((state) => {
        if (state === 'complete') setTimeout(done, 50);
      });
      channel = pc.createDataChannel('probe');
    });
    return { relay, ms: performance.now() - started, timedOut: timedOut && relay.length === 0 };
  } finally {
    (channel as Ndc.DataChannel | null)?.close();
    pc.close();
  }
}

export interface LoopResult {
  ok: boolean;
  /** Until the echo came back. */
  ms: number;
  /** Candidate types of a selected pair that shows the relay in use, e.g. "relay/relay". */
  pair: string | null;
  detail: string;
}

/**
 * Two relay-only peers in this process, a data channel between them and one echo: data
 * really flows through the TURN server's relay ports (permissions, relay range, firewall).
 */
export async function relayLoop(
  ndc: NativeStack,
  url: IceUrl,
  creds: [Credentials, Credentials],
  timeoutMs: number,
  bindAddress?: string,
): Promise<LoopResult> {
  const a = peer(ndc, 'switchboard-doctor-a', url, creds[0], bindAddress);
  const b = peer(ndc, 'switchboard-doctor-b', url, creds[1], bindAddress);
  const channels: Ndc.DataChannel[] = [];
  const started = performance.now();
  try {
    a.onLocalDescription((sdp, type) => b.setRemoteDescription(sdp, type));
    b.onLocalDescription((sdp, type) => a.setRemoteDescription(sdp, type));
    // Only relay candidates cross over: whatever pair ICE picks, the far end is a relay address.
    const relayOnly = (to: Ndc.PeerConnection) => (c: string, mid: string) => {
      if (/ typ relay/.test(c)) to.addRemoteCandidate(stripA(c), mid);
    };
    a.onLocalCandidate(relayOnly(b));
    b.onLocalCandidate(relayOnly(a));
    b.onDataChannel((dc) => {
      channels.push(dc);
      dc.onMessage((m) => dc.sendMessage(`echo:${String(m)}`));
    });
    const dc = a.createDataChannel('switchboard-doctor');
    channels.push(dc);
    const result = await new Promise<'echo' | 'timeout' | 'failed'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), timeoutMs);
      dc.onOpen(() => dc.sendMessage('ping'));
      dc.onMessage((m) => {
        if (String(m) === 'echo:ping') {
          clearTimeout(timer);
          resolve('echo');
        }
      });
      a.onStateChange((state) => {
        if (state === 'failed') {
          clearTimeout(timer);
          resolve('failed');
        }
      });
    });
    const ms = performance.now() - started;
    // On one machine a peer's host socket can reach the other's relay port directly, so one end
    // may see host/prflx while the other sends through its relay: report the end that shows the relay.
    const pairs = [a, b].map(selectedPair).filter((p): p is string => p !== null);
    const pair = pairs.find((p) => p.includes('relay')) ?? pairs[0] ?? null;
    if (result === 'echo') return { ok: true, ms, pair, detail: 'data channel echo through the relay' };
    return {
      ok: false,
      ms,
      pair,
      detail:
        result === 'failed'
          ? 'ICE failed between two relay-only peers: the relay addresses cannot reach each other'
          : `no data channel echo within ${timeoutMs} ms (ICE state ${a.iceState()}, relay addresses unreachable?)`,
    };
  } finally {
    for (const c of channels) c.close();
    a.close();
    b.close();
  }
}
