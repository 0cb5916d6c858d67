/**
 * The process a relay probe runs in (see relay-probe-process.ts). It reads one request from
 * argv, answers with one JSON line on stdout and leaves: node-datachannel's threads are never
 * torn down in the doctor's own process, so a native hang there cannot take the doctor with it.
 */
import { gatherRelayCandidates, loadNativeStack, relayLoop } from './relay-probe.js';
import type { ProbeAnswer, ProbeRequest } from './relay-probe-process.js';

async function answer(request: ProbeRequest): Promise<ProbeAnswer> {
  const ndc = await loadNativeStack();
  if (!ndc) return { kind: 'unavailable' };
  if (request.kind === 'gather') {
    return { kind: 'gather', result: await gatherRelayCandidates(ndc, request.url, request.creds, request.timeoutMs, request.bindAddress) };
  }
  return { kind: 'loop', result: await relayLoop(ndc, request.url, [request.creds, request.creds], request.timeoutMs, request.bindAddress) };
}

const request = JSON.parse(process.argv[2] ?? 'null') as ProbeRequest;
const reply = await answer(request);
// Exit only once the line is out: stdout is a pipe, and process.exit does not wait for it.
process.stdout.write(`${JSON.stringify(reply)}\n`, () => process.exit(0));
