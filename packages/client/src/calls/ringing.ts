/**
 * A call before it is connected: the caller's invite and ring timer, the callee's ring
 * timer and accept, the peer's accept, and glare adoption (see manager.ts for who wins).
 *
 * Apart from the rest of the call because this phase has its own clock (the ring timeout,
 * with some slack on the callee's side) and its own failures (the server refusing an
 * invite or accept), and because it decides the outcome of the caller's `connection`. It
 * ends with a peer connection (connected.ts) or with the call ended (teardown.ts).
 */
import { SwitchboardError, type RtcSignal, type ServerMessageOf } from '@switchboard/protocol';
import type { RTCCallback, RTCReceiverParams, RTCResolved } from '../types.js';
import type { CallData } from './call-data.js';
import { startSession } from './connected.js';
import { openMedia, plannedKinds, releaseMedia, type LocalMedia } from './media.js';
import { asError, tooManyCalls } from './reasons.js';
import { end } from './teardown.js';
import { checkCallback, checkParamsObject, planCall, type CallPlan } from './validate.js';

type RtcFrame = ServerMessageOf<'rtc'>;

/** Extra time the callee rings past its own ring timeout before giving up by itself. */
export const CALLEE_RING_SLACK_MS = 5000;

/**
 * Caller: the invite goes out at once, so the callee rings while the camera and microphone open
 * (a camera takes from a few hundred milliseconds to seconds, or waits for the user's permission).
 * Resolves once the media is open; rejects, after cancelling the invite, when it cannot be.
 */
export async function place(call: CallData, plan: CallPlan, cb: RTCCallback): Promise<void> {
  call.plan = plan;
  call.cb = cb;
  invite(call, plan, plannedKinds(plan.media));
  let media: LocalMedia;
  try {
    media = await openMedia(plan.media, call.ctx.host.platform);
  } catch (error) {
    // The callee is ringing already: stop it. The app hears of it from connectRTC alone.
    if (call.state !== 'ended') {
      call.ctx.host.sendSignal(call.peer.cid, call.id, { kind: 'hangup', reason: 'cancelled' }).catch(() => undefined);
      abandon(call);
    }
    throw error;
  }
  mediaReady(call, media);
}

/** The caller's media is open: whatever waited for it (an accept, glare adoption) goes on. */
function mediaReady(call: CallData, media: LocalMedia): void {
  if (call.state === 'ended') {
    releaseMedia(media);
    return;
  }
  call.media = media;
  if (call.adoptWhenReady) finishAdoption(call);
  else if (call.state === 'accepted') connectCaller(call); // the callee answered before the camera was open
}

function invite(call: CallData, plan: CallPlan, kinds: LocalMedia['kinds']): void {
  call.invited = true;
  const invite: RtcSignal = { kind: 'invite', channels: plan.channels.map((c) => c.label) };
  if (kinds) invite.media = kinds;
  call.ctx.host.sendSignal(call.peer.cid, call.id, invite).catch((error: unknown) => {
    if (call.state !== 'ringing') return;
    const err = asError(error);
    if (err.code === 'RECIPIENT_NOT_FOUND')
      void end(call, 'peer_gone', 'peer', { error: new SwitchboardError('RTC_PEER_GONE', `No open connection ${call.peer.cid}: ${err.message}`) });
    else void end(call, 'error', 'self', { error: err.code === 'TOO_MANY_CALLS' ? tooManyCalls(err) : err });
  });
  const ms = call.ctx.host.options.ringTimeoutMs;
  call.ringTimer = setTimeout(() => {
    if (call.state === 'ringing') {
      void end(call, 'timeout', 'self', {
        notify: { kind: 'hangup', reason: 'timeout' },
        error: new SwitchboardError('RTC_TIMEOUT', `Nobody answered the call within ${ms} ms.`),
      });
    }
  }, ms);
}

/** connectRTC could not open the media: the call never started (no invite, no rtc:closed). */
export function abandon(call: CallData): void {
  if (call.state === 'ended') return;
  call.state = 'ended';
  clearTimeout(call.ringTimer);
  call.settle = null;
  call.ctx.ended(call);
}

/** Glare: our outgoing call loses to the peer's invite; we become the callee of theirs. */
export function adoptInvite(call: CallData, frame: RtcFrame): void {
  const oldId = call.id;
  if (call.invited) call.ctx.host.sendSignal(call.peer.cid, oldId, { kind: 'hangup', reason: 'cancelled' }).catch(() => undefined);
  clearTimeout(call.ringTimer);
  call.id = frame.call;
  call.direction = 'incoming';
  heardInvite(call, frame);
  if (call.media) finishAdoption(call);
  else call.adoptWhenReady = true; // finished once our media is open (mediaReady)
}

function finishAdoption(call: CallData): void {
  call.plan!.channels = call.plan!.channels.filter((c) => !call.remoteLabels.includes(c.label));
  call.state = 'accepted';
  startSession(call, false);
  sendAccept(call);
  call.settle?.resolve(result(call));
}

export function startIncoming(call: CallData, frame: RtcFrame): void {
  heardInvite(call, frame);
  armCalleeTimer(call);
}

/** Callee: `rt.connectRTC(params, cb)`. Resolves null when the call no longer rings. */
export async function accept(call: CallData, params: RTCReceiverParams | undefined, cb: RTCCallback): Promise<RTCResolved | null> {
  checkCallback(cb);
  if (call.state !== 'ringing' || call.direction !== 'incoming') return null;
  const p = params ?? {};
  checkParamsObject(p);
  const plan = planCall(p, call.ctx.host, []);
  plan.channels = plan.channels.filter((c) => !call.remoteLabels.includes(c.label));
  call.state = 'accepted';
  clearTimeout(call.ringTimer);
  let media: LocalMedia;
  try {
    media = await openMedia(plan.media, call.ctx.host.platform);
  } catch (error) {
    // Nothing was sent yet: the call rings on, so the app may accept without media or decline.
    if (call.state === 'accepted') {
      call.state = 'ringing';
      armCalleeTimer(call);
    }
    throw error;
  }
  if (call.state !== 'accepted') {
    releaseMedia(media);
    return null;
  }
  call.plan = plan;
  call.media = media;
  call.cb = cb;
  startSession(call, false);
  sendAccept(call);
  return result(call);
}

/** Caller: the callee accepted; the caller makes the first offer (once its media is open). */
export function peerAccepted(call: CallData): void {
  clearTimeout(call.ringTimer);
  call.state = 'accepted';
  if (call.media) connectCaller(call);
}

function connectCaller(call: CallData): void {
  startSession(call, true);
  call.settle?.resolve(result(call));
}

/** The peer, the labels and the media its invite announced. */
function heardInvite(call: CallData, frame: RtcFrame): void {
  call.learnPeer(frame);
  if (frame.signal.kind === 'invite') {
    call.remoteLabels = frame.signal.channels ?? [];
    call.remoteMedia = frame.signal.media ?? null;
  }
}

function armCalleeTimer(call: CallData): void {
  clearTimeout(call.ringTimer);
  call.ringTimer = setTimeout(() => {
    if (call.state === 'ringing') void end(call, 'timeout', 'peer');
  }, call.ctx.host.options.ringTimeoutMs + CALLEE_RING_SLACK_MS);
}

function sendAccept(call: CallData): void {
  call.ctx.host.sendSignal(call.peer.cid, call.id, { kind: 'accept' }).catch((error: unknown) => {
    if (call.state === 'ended' || call.session?.controlOpen) return;
    const err = asError(error);
    if (err.code === 'TOO_MANY_CALLS') {
      // The server refused the accept (one side has its most active calls): tell the caller,
      // still ringing, that this side cannot take the call, so it gets RTC_BUSY at once.
      void end(call, 'error', 'self', { notify: { kind: 'reject', reason: 'busy' }, error: tooManyCalls(err) });
      return;
    }
    void end(call, err.code === 'RECIPIENT_NOT_FOUND' ? 'peer_gone' : 'error', err.code === 'RECIPIENT_NOT_FOUND' ? 'peer' : 'self');
  });
}

function result(call: CallData): RTCResolved {
  call.resolved ??= {
    // A getter: a renewal replaces the peer connection within the call.
    get target(): RTCPeerConnection {
      return call.session!.pc;
    },
    channels: call.connection.channels.record,
    hangup: () => call.hangup(),
    media: call.media?.stream ?? null,
    call: call.id,
  };
  return call.resolved;
}
