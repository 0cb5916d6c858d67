/**
 * Placing and answering calls: the "Calling…" and incoming-call dialogs, ring
 * sounds, busy handling, and turning every way a call can end into plain words.
 */
import type { ChatPanel } from './chat.js';
import { $, fillAvatar } from './dom.js';
import { CallLog } from './history.js';
import { getLocalMedia, stopStream, type LocalMedia } from './media.js';
import { displayName, type Person, type Roster } from './people.js';
import { startRinging } from './ring.js';
import { errorCode, errorMessage, FILE_TRANSFER_CHANNEL, type RtcClosedEvent, type RtcIncomingEvent, type RTCConnector, type Switchboard } from './sdk.js';
import { CallSession, type Peer } from './session.js';
import type { Stage } from './stage.js';
import { toast } from './toast.js';

type Phase =
  | { kind: 'idle' }
  | { kind: 'preparing'; peer: Peer }
  | { kind: 'outgoing'; peer: Peer; session: CallSession; connector: RTCConnector | null; cancelled: boolean }
  | { kind: 'incoming'; peer: Peer; event: RtcIncomingEvent; abort: AbortController }
  | { kind: 'active'; session: CallSession };

/** Chat and state on `default`; files on a reliable, ordered channel of their own (the callee gets both). */
const CALL_CHANNELS = [{ label: 'default' }, FILE_TRANSFER_CHANNEL];

/** Why the caller's `connection` promise rejected, in plain words. */
export function outcomeText(code: string | undefined, name: string, fallback: string): string {
  switch (code) {
    case 'RTC_REJECTED':
      return `${name} declined the call.`;
    case 'RTC_BUSY':
      return `${name} is busy in another call. Try again later.`;
    case 'RTC_TIMEOUT':
      return `${name} didn't answer.`;
    case 'RTC_PEER_GONE':
    case 'RECIPIENT_NOT_FOUND':
      return `${name} is no longer connected.`;
    case 'RTC_CANCELLED':
      return 'Call cancelled.';
    case 'RTC_ICE_FAILED':
      return `Couldn't connect to ${name}: no network path between you (the server may need a TURN relay).`;
    case 'FORBIDDEN':
      return `You can't call ${name} from here.`;
    case 'CONNECTION_CLOSED':
    case 'TIMEOUT':
      return 'Lost the connection to the server, so the call could not be placed.';
    case 'RATE_LIMITED':
      return 'Too many attempts. Wait a moment and try again.';
    default:
      return `The call to ${name} failed: ${fallback}`;
  }
}

/** Why an ongoing call ended (`rtc:closed` reason). */
function closedText(reason: string, name: string): string {
  switch (reason) {
    case 'hangup':
      return `${name} hung up`;
    case 'peer_gone':
      return `${name} lost their connection. Call ended`;
    case 'ice_failed':
      return `The connection to ${name} was lost and could not be restored`;
    case 'error':
      return 'The call ended because of an error';
    default:
      return 'Call ended';
  }
}

export class Calls {
  private phase: Phase = { kind: 'idle' };
  // Still in the room: call that tab; gone: ring the user (their other tabs, or a push).
  private readonly log = new CallLog((cid, name, user_id) => {
    const person = this.roster.get(cid) ?? { cid: '', user_id, name, busy: false, self: false, seenAt: 0 };
    void this.call(person);
  });

  constructor(
    private readonly sb: () => Switchboard | null,
    private readonly roster: Roster,
    private readonly stage: Stage,
    private readonly chat: ChatPanel,
    private readonly onBusyChange: (busy: boolean) => void,
  ) {
    $('cancel-call').addEventListener('click', () => this.cancelOutgoing());
    $<HTMLDialogElement>('outgoing').addEventListener('cancel', (event) => {
      event.preventDefault();
      this.cancelOutgoing();
    });
    $('accept').addEventListener('click', () => void this.accept());
    $('decline').addEventListener('click', () => this.decline());
    $<HTMLDialogElement>('incoming').addEventListener('cancel', (event) => {
      event.preventDefault();
      this.decline();
    });
  }

  /** In the room's group call: 1:1 calls are declined as busy meanwhile. */
  private inGroup = false;

  get busy(): boolean {
    return this.phase.kind !== 'idle' || this.inGroup;
  }

  setInGroup(inGroup: boolean): void {
    const wasBusy = this.busy;
    this.inGroup = inGroup;
    if (wasBusy !== this.busy) this.onBusyChange(this.busy);
  }

  /** The live call, for tests (`window.__demo`) and for leaving the room. */
  get session(): CallSession | null {
    return this.phase.kind === 'active' || this.phase.kind === 'outgoing' ? this.phase.session : null;
  }

  get phaseName(): Phase['kind'] {
    return this.phase.kind;
  }

  /** Compares without TypeScript's narrowing (the phase changes across awaits). */
  private isPhase(phase: Phase): boolean {
    return this.phase === phase;
  }

  private setPhase(phase: Phase): void {
    const before = this.phase;
    const wasBusy = this.busy;
    this.phase = phase;
    if (wasBusy !== this.busy) this.onBusyChange(this.busy);
    if (phase.kind === 'idle' && before.kind !== 'idle') {
      const peer = before.kind === 'active' ? before.session.peer : before.peer;
      this.restoreFocus(peer.cid);
    }
  }

  /** Keyboard users land back on the person they were talking to (or the list), not on <body>. */
  private restoreFocus(cid: string): void {
    requestAnimationFrame(() => {
      const active = document.activeElement as HTMLElement | null;
      if (active && active !== document.body && active.checkVisibility?.() !== false) return;
      if (document.querySelector('dialog[open]')) return;
      const button = document.querySelector<HTMLElement>(`#people [data-cid="${CSS.escape(cid)}"] button`);
      (button ?? document.getElementById('people-title'))?.focus({ preventScroll: true });
    });
  }

  private peerOf(person: Pick<Person, 'cid' | 'user_id' | 'name'>): Peer {
    return { cid: person.cid, user_id: person.user_id, name: displayName(person) };
  }

  // ------------------------------------------------------------ outgoing

  async call(person: Person): Promise<void> {
    const sb = this.sb();
    if (!sb || this.busy) return;
    const peer = this.peerOf(person);
    const preparing: Phase = { kind: 'preparing', peer };
    this.setPhase(preparing);
    const media = await getLocalMedia();
    if (!media || !this.isPhase(preparing)) {
      stopStream(media?.stream);
      if (this.isPhase(preparing)) this.setPhase({ kind: 'idle' });
      return;
    }
    const session = new CallSession(peer, media, this.stage, this.chat, (s, message) => this.onSessionEnded(s, message));
    const phase: Extract<Phase, { kind: 'outgoing' }> = { kind: 'outgoing', peer, session, connector: null, cancelled: false };
    this.setPhase(phase);
    const stopRing = startRinging('outgoing');
    this.showOutgoing(peer, media);

    let connector: RTCConnector;
    try {
      const params = peer.cid ? { cid: peer.cid, channels: CALL_CHANNELS } : { user_id: peer.user_id, channels: CALL_CHANNELS };
      connector = await sb.connectRTC(media.stream ? { ...params, media: media.stream } : params, session.handler);
    } catch (error) {
      stopRing();
      this.closeDialog('outgoing');
      stopStream(media.stream);
      if (this.isPhase(phase)) this.setPhase({ kind: 'idle' });
      if (!phase.cancelled) toast(outcomeText(errorCode(error), peer.name, errorMessage(error)), 'error');
      return;
    }
    phase.connector = connector;
    if (phase.cancelled) connector.hangup();

    try {
      const rtc = await connector.connection;
      stopRing();
      this.closeDialog('outgoing');
      if (!this.isPhase(phase) || phase.cancelled) {
        rtc.hangup();
        return;
      }
      this.setPhase({ kind: 'active', session });
      session.show();
      session.attach(rtc);
    } catch (error) {
      stopRing();
      this.closeDialog('outgoing');
      stopStream(media.stream);
      if (!this.isPhase(phase)) return;
      this.setPhase({ kind: 'idle' });
      const code = phase.cancelled ? 'RTC_CANCELLED' : errorCode(error);
      toast(outcomeText(code, peer.name, errorMessage(error)), code === 'RTC_CANCELLED' ? 'info' : 'warn');
    }
  }

  private showOutgoing(peer: Peer, media: LocalMedia): void {
    fillAvatar($('outgoing-avatar'), peer.name, peer.user_id);
    $('outgoing-title').textContent = `Calling ${peer.name}…`;
    $('outgoing-desc').textContent = media.mode === 'camera' ? 'Video call' : media.mode === 'microphone' ? 'Audio call' : 'Receive-only call';
    const dialog = $<HTMLDialogElement>('outgoing');
    if (!dialog.open) dialog.showModal();
    $('cancel-call').focus();
  }

  private cancelOutgoing(): void {
    const phase = this.phase;
    if (phase.kind !== 'outgoing' || phase.cancelled) return;
    phase.cancelled = true;
    phase.connector?.hangup();
    // Settle right away; the rejected `connection` that follows is ignored.
    this.closeDialog('outgoing');
    phase.session.end('Call cancelled.');
  }

  // ------------------------------------------------------------ incoming

  handleIncoming(event: RtcIncomingEvent): void {
    const known = this.roster.get(event.sender_cid);
    const name = event.sender_name?.trim() || (known ? displayName(known) : displayName({ name: null, user_id: event.sender ?? 'someone' }));
    if (this.busy) {
      event.hangup('busy');
      toast(`${name} tried to call you. They were told you are busy.`);
      this.log.missed(name, event.sender_cid ?? '', 'while you were in another call', event.sender ?? '');
      return;
    }
    const peer: Peer = { cid: event.sender_cid ?? '', user_id: event.sender ?? '', name };
    this.setPhase({ kind: 'incoming', peer, event, abort: new AbortController() });
    fillAvatar($('incoming-avatar'), name, peer.user_id);
    $('incoming-title').textContent = name;
    const kind = event.media ? (event.media.video ? 'video call' : event.media.audio ? 'audio call' : 'call') : 'call';
    $('incoming-desc').textContent = `is inviting you to a ${kind}`;
    this.stopRinging = startRinging('incoming');
    const dialog = $<HTMLDialogElement>('incoming');
    dialog.showModal();
    $('accept').focus();
    document.title = `📞 ${name} is calling · Switchboard`;
  }

  private stopRinging: () => void = () => undefined;

  private async accept(): Promise<void> {
    const phase = this.phase;
    if (phase.kind !== 'incoming') return;
    this.stopRinging();
    this.closeDialog('incoming');
    const media = await getLocalMedia(phase.abort.signal);
    if (!this.isPhase(phase)) {
      stopStream(media?.stream);
      return;
    }
    if (!media) {
      this.decline();
      return;
    }
    const session = new CallSession(phase.peer, media, this.stage, this.chat, (s, message) => this.onSessionEnded(s, message));
    this.setPhase({ kind: 'active', session });
    session.show();
    try {
      const rtc = await phase.event.connectRTC(media.stream ? { media: media.stream } : {}, session.handler);
      if (session.ended) {
        rtc?.hangup();
        return;
      }
      if (!rtc) {
        session.end(`${phase.peer.name} hung up before you answered.`);
        return;
      }
      session.attach(rtc);
    } catch (error) {
      session.end(`Could not answer: ${errorMessage(error)}`);
    }
  }

  private decline(): void {
    const phase = this.phase;
    if (phase.kind !== 'incoming') return;
    this.stopRinging();
    this.closeDialog('incoming');
    phase.abort.abort();
    phase.event.hangup('rejected');
    this.setPhase({ kind: 'idle' });
  }

  // ------------------------------------------------------------ endings

  handleClosed(event: RtcClosedEvent): void {
    const { call, reason } = event.message;
    const phase = this.phase;
    if (phase.kind === 'incoming' && phase.event.call === call) {
      this.stopRinging();
      this.closeDialog('incoming');
      phase.abort.abort();
      this.setPhase({ kind: 'idle' });
      const name = phase.peer.name;
      const away = document.visibilityState !== 'visible';
      if (reason === 'timeout' || away) this.log.missed(name, phase.peer.cid, away ? 'while you were away' : '', phase.peer.user_id);
      toast(reason === 'timeout' ? `Missed call from ${name}.` : reason === 'cancelled' ? `${name} cancelled the call.` : `Missed call from ${name}.`);
    } else if (phase.kind === 'active' && phase.session.callId === call && !phase.session.hangingUp) {
      const detail = (event.message as { error?: { message?: unknown } }).error?.message;
      const text = closedText(reason, phase.session.peer.name);
      phase.session.end(reason === 'error' && typeof detail === 'string' ? `${text}: ${detail}.` : phase.session.endedText(text));
    }
    // Outgoing calls settle through the rejected `connection` promise instead.
  }

  private onSessionEnded(session: CallSession, message: string): void {
    if ((this.phase.kind === 'active' || this.phase.kind === 'outgoing') && this.phase.session === session) {
      const wasActive = this.phase.kind === 'active';
      this.setPhase({ kind: 'idle' });
      if (wasActive) this.log.ended(session.peer.name, session.durationMs);
      if (wasActive || message === 'Call cancelled.') toast(message);
    }
    document.title = 'Switchboard';
  }

  /** Leaving the room or the page: end whatever is going on. */
  endAll(): void {
    const phase = this.phase;
    if (phase.kind === 'incoming') this.decline();
    else if (phase.kind === 'outgoing') this.cancelOutgoing();
    else if (phase.kind === 'active') phase.session.hangup();
  }

  private closeDialog(id: 'incoming' | 'outgoing'): void {
    const dialog = $<HTMLDialogElement>(id);
    if (dialog.open) dialog.close();
    if (id === 'incoming') document.title = this.stage.isOpen ? document.title : 'Switchboard';
  }
}
