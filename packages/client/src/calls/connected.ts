/**
 * A call with a peer connection: what the call makes of that connection's events
 * (call-connection.ts reports them, renewals included) and of the realtime connection
 * coming and going while the call lives on.
 *
 * Apart from ringing and teardown because here the call has two ways to its peer, the
 * realtime connection through the server and the control channel, and they may disagree:
 * the server can say "peer_gone" while the peer still answers a ping (a page being
 * unloaded, a peer resuming with a new cid). The rules for whom to believe sit together.
 */
import { SwitchboardError } from '@switchboard/protocol';
import type { ControlMessage } from '../rtc/index.js';
import type { CallData } from './call-data.js';
import type { CallConnectionOwner } from './call-connection.js';
import { hangupReason } from './reasons.js';
import { end } from './teardown.js';

/** How long the peer may take to answer a control-channel ping before "peer_gone" is believed. */
export const PEER_PING_MS = 1500;

/** What the call makes of its peer connection's events. */
export function connectionOwner(call: CallData): CallConnectionOwner {
  return {
    host: call.ctx.host,
    realtimeOpen: () => call.ctx.realtimeOpen(),
    address: () => ({ cid: call.peer.cid, call: call.id }),
    ended: () => call.state === 'ended',
    deliver: (event) => call.deliver(event),
    control: (message) => onControl(call, message),
    // The peer's connection closed without a hang-up (tab closed, crash); while the path is
    // being restarted or renewed, the restart policy decides instead.
    controlClosed: () => {
      if (call.state !== 'ended' && (call.state !== 'reconnecting' || call.peerReportedGone)) void end(call, 'peer_gone', 'peer');
    },
    localClose: () => void end(call, 'hangup', 'self', { notify: { kind: 'hangup', reason: 'hangup' } }),
    health: (health) => {
      if (call.state === 'ended') return;
      // The server has no connection of the peer's and the path to it failed: nothing can restart it.
      if (health !== 'connected' && call.peerReportedGone) void end(call, 'peer_gone', 'peer');
      else call.state = health === 'connected' ? 'connected' : 'reconnecting';
    },
    failed: (error) => void end(call, 'ice_failed', 'self', { notify: { kind: 'hangup', reason: 'ice_failed' }, error }),
    peerGone: () => void end(call, 'peer_gone', 'peer'),
    peerUnreachable: () => void peerHungUp(call, 'peer_gone'),
    warn: (text) => {
      if (call.warnings.length < 50) call.warnings.push(text);
    },
  };
}

/** The call's first peer connection (the caller offers first). */
export function startSession(call: CallData, initialOfferer: boolean): void {
  // Polite rule: the side with the lexicographically smaller cid (when the first peer
  // connection is made) is polite. Both sides compute it from the same two cids.
  call.connection.start(call.plan!, call.media?.stream ?? null, { polite: call.selfCid < call.peer.cid, initialOfferer });
}

/** A hang-up from the peer or the server; "peer_gone" is checked first while the control channel is open. */
export async function peerHungUp(call: CallData, reason: string): Promise<void> {
  if (reason === 'peer_gone' && call.session?.controlOpen) {
    // The server saw the peer's realtime connection go; the call itself may be fine.
    if (call.checkingPeer) return;
    call.checkingPeer = true;
    const answered = await call.session.ping(PEER_PING_MS);
    call.checkingPeer = false;
    if (answered) {
      call.peerReportedGone = true;
      return;
    }
  }
  void end(call, hangupReason(reason), 'peer');
}

/** The peer is on the server again, with a new cid. */
export function peerMoved(call: CallData, cid: string): void {
  call.peer.cid = cid;
  call.peerReportedGone = false;
}

function onControl(call: CallData, message: ControlMessage): void {
  if (message.t === 'hangup') {
    void end(call, hangupReason(message.reason), 'peer');
  } else if (message.t === 'cid') {
    peerMoved(call, message.cid);
  }
}

export function realtimeClosed(call: CallData): void {
  if (call.state === 'ended') return;
  if (call.session?.controlOpen) return; // the call lives on; hang-ups travel over the control channel
  void end(call, 'error', 'self', {
    error: new SwitchboardError('CONNECTION_CLOSED', 'The realtime connection closed before the call was connected.'),
  });
}

/** Our realtime connection is back, perhaps with a new cid: the peer hears it over the control channel. */
export function realtimeOpen(call: CallData, cid: string): void {
  if (call.state === 'ended' || cid === call.selfCid) return;
  call.selfCid = cid;
  call.session?.sendControl({ t: 'cid', cid });
}
