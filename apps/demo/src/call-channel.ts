/**
 * The call's data channel as the demo uses it: chat, and each side's media state (muted,
 * camera off, which stream is a screen) so the other side can say what it shows. Messages
 * are small JSON objects; chat typed before the channel opens waits in an outbox.
 */
import type { RTCEvent, RTCResolved } from './sdk.js';

/** What a side tells the other about its media. */
export interface PeerState {
  mic: boolean;
  cam: boolean;
  hasAudio: boolean;
  hasVideo: boolean;
  screen: string | null;
}

type Wire = { t: 'chat'; id: string; text: string; ts: number } | ({ t: 'state' } & PeerState) | { t: 'file-cancel'; id: string };

/** The SDK's default channel: every call has it, so the demo needs no channel setup. */
const CHANNEL = 'default';

export interface CallChannelEvents {
  /** The channel is open: the moment to send our state, before any queued chat. */
  open(): void;
  chat(text: string, ts: number): void;
  peerState(state: PeerState): void;
  /** The other side cancelled a file we are sending them. */
  fileCancel(id: string): void;
}

function newId(): string {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

export class CallChannel {
  private channel: RTCDataChannel | null = null;
  private sdkChannels: RTCResolved['channels'] | null = null;
  private readonly outbox: string[] = [];
  private stopped = false;

  constructor(private readonly events: CallChannelEvents) {}

  /** The call is up: its channels may already include ours; if not, it comes in an `open` event. */
  attach(channels: RTCResolved['channels']): void {
    this.sdkChannels = channels;
    const channel = channels[CHANNEL];
    if (channel) this.handleChannel(channel);
  }

  /** A channel the SDK opened; only the default one carries our messages. */
  handleChannel(channel: RTCDataChannel): void {
    if (channel.label !== CHANNEL || this.channel === channel) return;
    this.channel = channel;
    if (channel.readyState === 'open') this.flush();
    else channel.addEventListener('open', () => this.flush(), { once: true });
  }

  handleClose(target: unknown): void {
    if (target === this.channel) this.channel = null;
  }

  /** A data-channel `message` event; one that names no channel is on the default one. */
  handleMessage(event: Extract<RTCEvent, { type: 'message' }>): void {
    const label = typeof event.label === 'string' ? event.label : event.target instanceof RTCDataChannel ? event.target.label : CHANNEL;
    const data = event.data;
    if (label !== CHANNEL || typeof data !== 'string') return;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const m = message as Partial<Wire> & Record<string, unknown>;
    if (m.t === 'chat' && typeof m.text === 'string') {
      this.events.chat(m.text.slice(0, 2000), typeof m.ts === 'number' ? m.ts : Date.now());
    } else if (m.t === 'file-cancel' && typeof m.id === 'string') {
      this.events.fileCancel(m.id);
    } else if (m.t === 'state') {
      this.events.peerState({
        mic: m.mic !== false,
        cam: m.cam !== false,
        hasAudio: m.hasAudio !== false,
        hasVideo: m.hasVideo !== false,
        screen: typeof m.screen === 'string' ? m.screen : null,
      });
    }
  }

  /** False when the message could not go out yet (it waits in the outbox). */
  sendChat(text: string): boolean {
    return this.send({ t: 'chat', id: newId(), text, ts: Date.now() });
  }

  /** Dropped when the channel is not open: the state is sent again when it opens. */
  sendState(state: PeerState): void {
    this.send({ t: 'state', ...state });
  }

  sendFileCancel(id: string): boolean {
    return this.send({ t: 'file-cancel', id });
  }

  /** The call ended: a channel that opens late sends nothing. */
  stop(): void {
    this.stopped = true;
  }

  private flush(): void {
    if (this.stopped) return;
    this.events.open();
    while (this.outbox.length && this.channel?.readyState === 'open') this.channel.send(this.outbox.shift()!);
  }

  private send(message: Wire): boolean {
    const text = JSON.stringify(message);
    const channel = this.channel ?? this.sdkChannels?.[CHANNEL] ?? null;
    if (channel && channel.readyState === 'open') {
      try {
        channel.send(text);
        return true;
      } catch {
        // fall through to the outbox
      }
    }
    if (message.t === 'chat') this.outbox.push(text);
    return false;
  }
}
