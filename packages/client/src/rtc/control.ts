/**
 * The control channel: a negotiated data channel (label `__switchboard`, id 1023,
 * reliable and ordered) that both sides create with the peer connection, so it needs
 * no `ondatachannel` and is never visible in `channels` or in RTC callback events.
 *
 * It carries what must not depend on the signaling server:
 * - `hangup`: the other side ends the call at once, even when the server is down;
 * - `ping`/`pong`: "are you still there?" when the server says the peer is gone
 *   (its realtime connection dropped, but the call may be alive);
 * - `cid`: our new connection id after a realtime reconnect, so the peer signals us there;
 * - `signal`: description/candidate signals while the realtime connection is down;
 * - `caps`: what this side's WebRTC stack can do (`iceRestart: false` on libdatachannel, so
 *   the peer renews the peer connection instead of restarting ICE; see calls/renewal.ts).
 *
 * Messages are small JSON objects; their schemas are the protocol's (`controlSchemas`), and
 * `parseControl` is its valibot-free check: unknown or malformed messages are ignored.
 */
import { CONTROL_ID, CONTROL_LABEL } from '@switchboard/protocol';

export { parseControlMessage as parseControl, type ControlMessage, type PeerSignal } from '@switchboard/protocol';

export function createControlChannel(pc: RTCPeerConnection): RTCDataChannel {
  return pc.createDataChannel(CONTROL_LABEL, { negotiated: true, id: CONTROL_ID, ordered: true });
}

/** Resolves once the channel's send buffer is empty (or after `maxMs`), so a close does not drop it. */
export function drain(channel: RTCDataChannel, maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    const started = Date.now();
    const tick = (): void => {
      if (channel.readyState !== 'open' || channel.bufferedAmount === 0 || Date.now() - started >= maxMs) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
}
