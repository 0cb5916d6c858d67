/**
 * getStats() helpers that run in the page. The page side is plain JavaScript in a string
 * (functions passed to page.evaluate must not close over anything, and transpilers may add
 * helpers to TypeScript functions), installed as `window.__sbStats`:
 *
 *   __sbStats.framesDecoded(pc)                  → sum of inbound-rtp video framesDecoded
 *   __sbStats.selectedPair(pc)                   → { local, remote, state, currentRoundTripTime } | null
 *   __sbStats.waitForFramesDecoded(pc, n, ms)    → resolves with the count once ≥ n
 *   __sbStats.waitForConnected(pc, ms)           → resolves (ms it took) on 'connected', rejects on 'failed'/timeout
 *
 * Node side: `await installWebrtcStats(page)`, then `framesDecoded(page, 'window.pc')` etc., where
 * the second argument is a JS expression that evaluates to the RTCPeerConnection in the page
 * (or a JSHandle of it).
 */
import type { JSHandle, Page } from 'playwright-core';

export interface CandidateInfo {
  candidateType: 'host' | 'srflx' | 'prflx' | 'relay' | string;
  protocol: string;
  address: string | null;
  port: number | null;
  /** For relay candidates: how the client reaches the TURN server (udp, tcp, tls). */
  relayProtocol: string | null;
}

export interface SelectedPair {
  local: CandidateInfo;
  remote: CandidateInfo;
  state: string;
  currentRoundTripTime: number | null;
}

export const WEBRTC_STATS_SCRIPT = String.raw`
(() => {
  if (window.__sbStats) return;
  const candidate = (s) => s ? {
    candidateType: s.candidateType, protocol: s.protocol,
    address: s.address ?? s.ip ?? null, port: s.port ?? null, relayProtocol: s.relayProtocol ?? null,
  } : null;
  const api = {
    async framesDecoded(pc) {
      const report = await pc.getStats();
      let frames = 0;
      report.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0; });
      return frames;
    },
    async selectedPair(pc) {
      const report = await pc.getStats();
      let pair = null;
      report.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId) || pair;
      });
      if (!pair) report.forEach((s) => { if (!pair && s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s; });
      if (!pair) return null;
      return {
        local: candidate(report.get(pair.localCandidateId)),
        remote: candidate(report.get(pair.remoteCandidateId)),
        state: pair.state,
        currentRoundTripTime: pair.currentRoundTripTime ?? null,
      };
    },
    async waitForFramesDecoded(pc, minimum, timeoutMs = 15000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const frames = await api.framesDecoded(pc);
        if (frames >= minimum) return frames;
        if (Date.now() > deadline) throw new Error('only ' + frames + ' frames decoded within ' + timeoutMs + ' ms');
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    waitForConnected(pc, timeoutMs = 15000) {
      const start = performance.now();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pc.connectionState === 'connected') { done(); resolve(performance.now() - start); }
          else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') { done(); reject(new Error('connection ' + pc.connectionState)); }
        };
        const timer = setTimeout(() => { done(); reject(new Error('not connected within ' + timeoutMs + ' ms (' + pc.connectionState + ')')); }, timeoutMs);
        const done = () => { clearTimeout(timer); pc.removeEventListener('connectionstatechange', check); };
        pc.addEventListener('connectionstatechange', check);
        check();
      });
    },
  };
  window.__sbStats = api;
})();
`;

/** Installs `window.__sbStats` in the current document and every later one of this page. */
export async function installWebrtcStats(page: Page): Promise<void> {
  await page.addInitScript({ content: WEBRTC_STATS_SCRIPT });
  await page.evaluate(WEBRTC_STATS_SCRIPT);
}

type PcRef = string | JSHandle;

async function callStats<T>(page: Page, pc: PcRef, method: string, extra: unknown[] = []): Promise<T> {
  if (typeof pc === 'string') {
    return page.evaluate(
      ([expression, name, args]) => {
        const target = (0, eval)(expression as string) as unknown;
        const stats = (window as unknown as { __sbStats: Record<string, (...a: unknown[]) => unknown> }).__sbStats;
        return stats[name as string]!(target, ...(args as unknown[]));
      },
      [pc, method, extra] as const,
    ) as Promise<T>;
  }
  return pc.evaluate(
    (target, [name, args]) => {
      const stats = (window as unknown as { __sbStats: Record<string, (...a: unknown[]) => unknown> }).__sbStats;
      return stats[name as string]!(target, ...(args as unknown[]));
    },
    [method, extra] as const,
  ) as Promise<T>;
}

export const framesDecoded = (page: Page, pc: PcRef): Promise<number> => callStats(page, pc, 'framesDecoded');
export const selectedCandidatePair = (page: Page, pc: PcRef): Promise<SelectedPair | null> => callStats(page, pc, 'selectedPair');
export const waitForFramesDecoded = (page: Page, pc: PcRef, minimum: number, timeoutMs = 15_000): Promise<number> =>
  callStats(page, pc, 'waitForFramesDecoded', [minimum, timeoutMs]);
/** Resolves with the milliseconds it took from the call until 'connected'. */
export const waitForConnected = (page: Page, pc: PcRef, timeoutMs = 15_000): Promise<number> => callStats(page, pc, 'waitForConnected', [timeoutMs]);
