/**
 * The app's data channels. `CallChannels` outlives a peer connection (a call that
 * renews its peer connection keeps one `channels` record and recreates the channels
 * this side opened); `AppChannels` registers one peer connection's channels in it and
 * forwards their RTC callback events. The control channel never appears here.
 */
import type { RTCEvent } from '../types.js';
import { CONTROL_LABEL, type ChannelSpec } from './channels.js';
import { channelEvent } from './events.js';

const CHANNEL_EVENTS = ['open', 'message', 'close', 'bufferedamountlow', 'error'] as const;

export class CallChannels {
  /** The live `channels` record the app reads, keyed by label (first channel wins). */
  readonly record: Record<string, RTCDataChannel> = {};
  /** Channels this side opened and the app has not closed: what a renewal recreates. */
  private readonly opened = new Map<string, RTCDataChannelInit>();

  own(): ChannelSpec[] {
    return [...this.opened].map(([label, init]) => ({ label, init: { ...init } }));
  }

  remember(label: string, init: RTCDataChannelInit): void {
    if (!this.opened.has(label)) this.opened.set(label, { ...init });
  }

  forget(label: string): void {
    this.opened.delete(label);
  }
}

export class AppChannels {
  /** Channels of this peer connection; a record entry from an older one gives way to them. */
  private readonly mine = new WeakSet<RTCDataChannel>();
  /** Channels whose `open` the app saw and whose `close` it has not seen yet. */
  private readonly unclosed = new Set<RTCDataChannel>();

  constructor(
    private readonly shared: CallChannels,
    private readonly live: () => boolean,
    private readonly emit: (event: RTCEvent) => void,
  ) {}

  get record(): Record<string, RTCDataChannel> {
    return this.shared.record;
  }

  /** `init` is given for channels this side opened (remembered until the app closes them). */
  register(channel: RTCDataChannel, init?: RTCDataChannelInit): void {
    if (channel.label === CONTROL_LABEL) return;
    this.mine.add(channel);
    const record = this.shared.record;
    const claim = (): void => {
      const current = record[channel.label];
      if (current === undefined || !this.mine.has(current)) record[channel.label] = channel;
    };
    claim();
    if (init) {
      this.shared.remember(channel.label, init);
      const close = channel.close.bind(channel);
      Object.defineProperty(channel, 'close', {
        configurable: true,
        writable: true,
        value: (): void => {
          if (this.live()) this.shared.forget(channel.label);
          close();
        },
      });
    }
    const forward = (e: Event): void => {
      if (!this.live()) return;
      if (e.type === 'open') {
        claim();
        this.unclosed.add(channel);
      }
      if (e.type === 'close') {
        if (!this.unclosed.delete(channel)) return;
        if (record[channel.label] === channel) delete record[channel.label];
      }
      this.emit(channelEvent(channel, e));
    };
    for (const type of CHANNEL_EVENTS) channel.addEventListener(type, forward);
  }

  /**
   * The call ended: a `close` for every open channel whose own event has not come. Closing a
   * peer connection fires none on this side, and the other side's arrives (if at all) after
   * this side stopped listening; Skapi apps see each channel close once, on both sides.
   */
  closeAll(): void {
    for (const channel of this.unclosed) {
      if (this.shared.record[channel.label] === channel) delete this.shared.record[channel.label];
      this.emit(channelEvent(channel, { type: 'close', timeStamp: performance.now() } as Event));
    }
    this.unclosed.clear();
  }
}

/**
 * Wraps two methods on this one peer connection object (not the prototype):
 * `createDataChannel`, so channels the app opens mid-call with `target.createDataChannel()`
 * get the same events as the others; and `close`, so an app that closes `target` itself
 * ends the call (a local close fires no event).
 */
export function interceptPeer(pc: RTCPeerConnection, hooks: { channel(c: RTCDataChannel, init: RTCDataChannelInit): void; closed(): void }): void {
  const create = pc.createDataChannel.bind(pc);
  const close = pc.close.bind(pc);
  const define = (name: string, value: unknown): void => {
    Object.defineProperty(pc, name, { configurable: true, writable: true, value });
  };
  define('createDataChannel', (label: string, init?: RTCDataChannelInit): RTCDataChannel => {
    const channel = create(label, init);
    hooks.channel(channel, init ?? {});
    return channel;
  });
  define('close', (): void => {
    close();
    hooks.closed();
  });
}
