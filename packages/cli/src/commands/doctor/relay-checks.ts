/**
 * TURN through a real WebRTC stack (node-datachannel): relay-only gathering on every allocated
 * UDP TURN URL, then data through the first one between two relay-only peers. An Allocate
 * alone does not prove it: firewalls on the relay port range or a wrong external-ip only show
 * when data has to flow. Each probe runs in a child process (relay-probe-process.ts).
 */
import { transportLabel } from '../ice-urls.js';
import { runRelayProbe, type ProbeOutcome, type ProbeRequest } from '../relay-probe-process.js';
import type { GatherResult, LoopResult } from '../relay-probe.js';
import { fmtMs, type Check, type CheckContext } from './report.js';
import type { AllocatedTurn } from './stun-turn-checks.js';

const UNAVAILABLE: Check = {
  id: 'turn-native',
  name: 'WebRTC relay',
  status: 'skip',
  detail: 'node-datachannel is not installed here (npm i node-datachannel) : relay checks with a WebRTC stack skipped',
};

export async function checkRelayWithWebRtc(ctx: CheckContext, allocated: AllocatedTurn[], bindAddress: string | undefined): Promise<void> {
  const { timeoutMs } = ctx;
  const udp = allocated.filter((e) => transportLabel(e.url) === 'UDP');
  if (udp.length === 0) {
    ctx.add({
      id: 'turn-native',
      name: 'WebRTC relay',
      status: 'skip',
      detail:
        allocated.length > 0
          ? 'no UDP TURN URL allocated; node-datachannel relays over UDP only, so TCP/TLS were checked by Allocate alone'
          : 'skipped: no TURN allocation succeeded',
    });
    return;
  }
  for (const entry of udp) {
    const name = `Relay candidates ${entry.url.url}`;
    const outcome = await runRelayProbe({ kind: 'gather', url: entry.url, creds: entry.creds, timeoutMs, bindAddress });
    if (outcome.kind === 'unavailable') return ctx.add(UNAVAILABLE);
    ctx.add(outcome.kind === 'gather' ? gatherCheck(name, outcome.result, timeoutMs) : stackFailure('turn-native', name, outcome));
  }
  const entry = udp[0]!;
  const request: ProbeRequest = { kind: 'loop', url: entry.url, creds: entry.creds, timeoutMs, bindAddress };
  const outcome = await runRelayProbe(request);
  if (outcome.kind === 'unavailable') return ctx.add(UNAVAILABLE);
  ctx.add(outcome.kind === 'loop' ? loopCheck(outcome.result) : stackFailure('relay', 'Data through the relay', outcome));
}

function gatherCheck(name: string, result: GatherResult, timeoutMs: number): Check {
  return result.relay.length > 0
    ? {
        id: 'turn-native',
        name,
        status: 'ok',
        detail: `node-datachannel (iceTransportPolicy relay) gathered ${result.relay[0]!.replace(/^candidate:\S+ \d+ /, '')} in ${fmtMs(result.ms)}`,
        ms: result.ms,
      }
    : {
        id: 'turn-native',
        name,
        status: 'fail',
        detail: `node-datachannel gathered no relay candidate${result.timedOut ? ` within ${timeoutMs} ms` : ''}, although a raw Allocate worked`,
        fix: 'See the coturn log for this user.',
        cause: 'no-relay-candidate',
      };
}

function loopCheck(loop: LoopResult): Check {
  const viaRelay = loop.pair?.includes('relay') ?? false;
  return loop.ok
    ? {
        id: 'relay',
        name: 'Data through the relay',
        status: viaRelay ? 'ok' : 'warn',
        ms: loop.ms,
        detail: `two relay-only peers connected (${loop.pair ?? 'pair ?'}) and echoed over a data channel in ${fmtMs(loop.ms)}${viaRelay ? '' : ', but not through the relay: this host reaches the relay address directly, so relayed data was not proven'}`,
      }
    : {
        id: 'relay',
        name: 'Data through the relay',
        status: 'fail',
        detail: loop.detail,
        cause: 'relay-blocked',
        fix: "Allocations work but relayed data does not flow: open coturn's relay port range (min-port..max-port, UDP) in the firewall, set external-ip when coturn is behind NAT, and do not deny the relay address in denied-peer-ip.",
      };
}

/** The WebRTC stack itself failed: it hung twice, or its process died without an answer. */
function stackFailure(id: string, name: string, outcome: ProbeOutcome): Check {
  return {
    id,
    name,
    status: 'fail',
    detail:
      outcome.kind === 'hung'
        ? `node-datachannel gave no answer within ${outcome.deadlineMs} ms, ${outcome.attempts} times; its process was stopped`
        : `node-datachannel failed: ${outcome.kind === 'crashed' ? outcome.detail : `unexpected answer "${outcome.kind}"`}`,
    cause: 'webrtc-stack',
    fix: 'The native WebRTC stack on this machine (node-datachannel) hung or crashed, which says nothing about the TURN server: run the doctor again, and reinstall node-datachannel if it repeats.',
  };
}
