/**
 * Group calls: a full mesh of up to six (by default) in the joined realtime group, built on the
 * 1:1 calls. An add-on entry (`@switchboard/client/group`), outside the core SDK's size budget.
 *
 *   await sb.joinRealtime({ group: 'room-1' });
 *   const call = await joinGroupCall(sb, { media: { audio: true, video: true } }, (e) => {
 *     if (e.type === 'peer:track') showTile(e.peer.cid, e.streams[0]);
 *     if (e.type === 'peer:left') removeTile(e.peer.cid);
 *   });
 *   call.peers;                  // [{ cid, user_id, name, state, target, channels, streams, call }]
 *   call.send('default', 'hi');  // to every member's open channel
 *   await call.leave();
 *
 * Rejects with GROUP_CALL_FULL when the call already has `maxParticipants` (default 6).
 */
import { SwitchboardError } from '@switchboard/protocol';
import { openMedia, planMedia } from '../calls/media.js';
import { checkCallback, checkParamsObject, checkSupported } from '../calls/validate.js';
import { switchboardInternals, type Switchboard } from '../switchboard.js';
import type { ChannelParam, ChannelPreset, IceParam, MediaParam } from '../types.js';
import { GroupCall, type GroupCallCallback } from './group-call.js';
import { checkMax } from './roster.js';

export { GroupCall, type GroupCallCallback, type GroupCallEvent, type GroupPeer, type GroupPeerLeftReason } from './group-call.js';
export { DEFAULT_MAX_PARTICIPANTS, dials } from './roster.js';

export interface GroupCallParams {
  /** Constraints (opened once, shared by every peer connection, stopped on leave) or your own MediaStream (used as given). */
  media?: MediaParam;
  /** Data channels of every pair, as in connectRTC (default: the reliable `default` channel). */
  channels?: ChannelParam[] | ChannelPreset;
  ice?: IceParam;
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Participants at most, this connection included (default 6). Every member should use the same value. */
  maxParticipants?: number;
  /** How long joining waits for the members' answers (default 1000 ms): a full call answers within it. */
  rollCallMs?: number;
}

const active = new WeakMap<Switchboard, GroupCall>();

/** Joins the group call of the realtime group `sb` is in; resolves once the members had time to answer. */
export async function joinGroupCall(sb: Switchboard, params: GroupCallParams, cb: GroupCallCallback): Promise<GroupCall> {
  const internals = switchboardInternals(sb);
  checkSupported(internals.host);
  checkCallback(cb);
  checkParamsObject(params as unknown);
  const max = checkMax(params.maxParticipants);
  if (typeof max === 'string') throw SwitchboardError.invalidParameter(max);
  const rollCallMs = params.rollCallMs ?? 1000;
  if (!(rollCallMs >= 0)) throw SwitchboardError.invalidParameter('"rollCallMs" should be a number ≥ 0.');
  if (sb.cid === null) throw SwitchboardError.invalidRequest('No realtime connection. Execute connectRealtime() before this method.');
  if (internals.realtime.group === null) throw SwitchboardError.invalidRequest("Join a realtime group first (joinRealtime): the group call is that group's.");
  if (active.has(sb)) throw SwitchboardError.invalidRequest('Already in a group call: leave() it first.');
  const media = await openMedia(planMedia(params.media, internals.host.platform), internals.host.platform);
  const call = new GroupCall(
    sb,
    internals,
    cb,
    { stream: media.stream, owned: media.owned, channels: params.channels, ice: params.ice, iceTransportPolicy: params.iceTransportPolicy, max },
    () => active.delete(sb),
  );
  active.set(sb, call);
  await call.join(rollCallMs);
  return call;
}
