/**
 * The call layer: routes inbound `rtc` frames to calls by call id, starts calls
 * (connectRTC), ends them (closeRTC), and settles glare.
 *
 * Glare (two connections invite each other before either has seen the other's invite):
 * when an invite arrives from a cid we are ringing ourselves (our outgoing call to it
 * is still `ringing`), the call whose CALLER has the lexicographically smaller cid wins.
 * Both sides compare the same two cids, so both keep the same call id:
 * - smaller-cid side: its own call wins; the peer's invite is dropped silently (no
 *   `rtc:incoming`, and the peer's later `hangup{cancelled}` for it is ignored);
 * - larger-cid side: its outgoing call is dropped silently (a `hangup{cancelled}` tells
 *   the server; no RTC_* error, no `rtc:closed`) and it accepts the winning call with the
 *   media, channels and callback it passed to its own connectRTC. Its `connection`
 *   resolves with the winning call, and its connector's `call` now reads that call id.
 * Calling someone whose invite to us is ringing (we saw `rtc:incoming`, they are not
 * ringing us) is not glare: connectRTC accepts their call instead of placing a new one.
 * An outgoing call exists (ringing, invited) from the moment connectRTC is called, before its
 * camera is open, so an invite that arrives meanwhile is glare too, not an `rtc:incoming` next
 * to our own ringing call.
 */
import { SwitchboardError, type ServerMessageOf } from '@switchboard/protocol';
import type { CallHost, CallLayer, RTCCallback, RTCConnector, RTCConnectorParams, RtcIncomingEvent } from '../types.js';
import { Call, type CallContext } from './call.js';
import { connectorFor } from './connector.js';
import { checkCallback, checkCid, checkParamsObject, checkRealtime, checkSupported, planCall } from './validate.js';

type RtcFrame = ServerMessageOf<'rtc'>;
const TOMBSTONES = 1000;

export function newCallId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (const byte of bytes) out += alphabet[byte & 63];
  return out;
}

export class CallManager implements CallLayer {
  private readonly calls = new Map<string, Call>();
  /** Ids of ended or dropped calls: late signals for them are ignored. */
  private readonly gone = new Set<string>();
  private open: boolean;
  private readonly ctx: CallContext;

  constructor(private readonly host: CallHost) {
    this.open = host.self() !== null;
    this.ctx = {
      host,
      realtimeOpen: () => this.open,
      ended: (call) => this.forget(call.id),
    };
  }

  /** Live calls (for tests and diagnostics). */
  get active(): Call[] {
    return [...this.calls.values()];
  }

  handleSignal(frame: RtcFrame): void {
    const existing = this.calls.get(frame.call);
    if (existing) {
      existing.handleSignal(frame);
      return;
    }
    if (frame.signal.kind !== 'invite' || this.gone.has(frame.call)) return;
    const self = this.host.self();
    if (!self) return;
    const ringing = this.find((c) => c.direction === 'outgoing' && c.state === 'ringing' && c.peer.cid === frame.sender_cid);
    if (ringing) {
      if (self.cid < frame.sender_cid) {
        this.forget(frame.call); // our call wins; theirs is dropped silently
      } else {
        const oldId = ringing.id;
        this.calls.delete(oldId);
        this.forget(oldId);
        ringing.adoptInvite(frame);
        this.calls.set(ringing.id, ringing);
      }
      return;
    }
    this.incoming(frame, self.cid, self.user.user_id);
  }

  async connectRTC(params: RTCConnectorParams, cb: RTCCallback): Promise<RTCConnector> {
    checkSupported(this.host);
    checkCallback(cb);
    checkParamsObject(params);
    // A user_id rings all of that user's connections: the server routes it, and the call's peer
    // becomes the connection that accepts (Call.handleSignal: a known user on a new cid).
    const uid = params.user_id as string | undefined;
    const cid = uid ?? checkCid(params.cid);
    const plan = planCall(params, this.host);
    const self = checkRealtime(this.host);
    if (cid === self.cid) throw SwitchboardError.invalidParameter('"cid" is your own connection; call another connection.');
    const existing = this.find((c) => c.peer.cid === cid);
    if (existing?.direction === 'incoming' && existing.state === 'ringing' && !existing.connector) return this.acceptInstead(existing, params, cb);
    if (existing) return existing.existingConnector();
    const call = new Call(this.ctx, newCallId(), 'outgoing', { cid, user_id: uid ?? null, name: null }, self.cid, self.user_id);
    this.calls.set(call.id, call);
    // The invite goes out before the camera opens: the callee rings meanwhile (ringing.ts).
    await call.place(plan, cb);
    return call.connector!;
  }

  async closeRTC(params: { cid?: string; close_all?: boolean }): Promise<void> {
    checkParamsObject(params);
    let targets: Call[];
    if (params.close_all === true) {
      targets = this.active;
    } else {
      if (params.cid === undefined || params.cid === null) throw SwitchboardError.invalidParameter('"cid" is required.');
      const cid = checkCid(params.cid);
      targets = this.active.filter((c) => c.peer.cid === cid);
    }
    await Promise.all(targets.map((call) => call.close()));
  }

  leavePage(): void {
    for (const call of this.active) call.leavePage();
  }

  handleRealtimeState(state: 'open' | 'closed' | 'away'): void {
    if (state === 'away') {
      this.open = false; // hang-ups prefer the control channel; other signals queue for the resume
      return;
    }
    if (state === 'closed') {
      this.open = false;
      for (const call of this.active) call.onRealtimeClosed();
      return;
    }
    this.open = true;
    const self = this.host.self();
    if (self) for (const call of this.active) call.onRealtimeOpen(self.cid);
  }

  private incoming(frame: RtcFrame, selfCid: string, selfUser: string): void {
    const call = new Call(this.ctx, frame.call, 'incoming', { cid: frame.sender_cid, user_id: frame.sender, name: frame.sender_name }, selfCid, selfUser);
    this.calls.set(call.id, call);
    call.startIncoming(frame);
    const event: RtcIncomingEvent = {
      type: 'rtc:incoming',
      sender: frame.sender,
      sender_cid: frame.sender_cid,
      sender_rid: null,
      code: null,
      call: frame.call,
      sender_name: frame.sender_name,
      media: call.remoteMedia,
      connectRTC: (params, cb) => call.accept(params, cb),
      hangup: (reason) => call.hangup(reason),
    };
    this.host.emitRealtime(event);
  }

  private acceptInstead(call: Call, params: RTCConnectorParams, cb: RTCCallback): RTCConnector {
    const { cid: _cid, ...rest } = params;
    const connection = call.accept(rest, cb).then((resolved) => {
      if (!resolved) throw new SwitchboardError('RTC_CANCELLED', 'The call stopped ringing before it was accepted.');
      return resolved;
    });
    return connectorFor(call, connection);
  }

  private find(predicate: (call: Call) => boolean): Call | undefined {
    for (const call of this.calls.values()) if (call.live && predicate(call)) return call;
    return undefined;
  }

  private forget(id: string): void {
    this.calls.delete(id);
    this.gone.add(id);
    if (this.gone.size > TOMBSTONES) this.gone.delete(this.gone.values().next().value as string);
  }
}
