/**
 * The app's data channels on one peer connection: the live `channels` record (keyed by
 * label, first channel wins) and their RTC callback events. The control channel never
 * appears here.
 */
import type { RTCEvent } from '../types.js';
import { CONTROL_LABEL } from './channels.js';
import { channelEvent } from './events.js';

const CHANNEL_EVENTS = ['open', 'message', 'close', 'bufferedamountlow', 'error'] as const;

export class AppChannels {
  readonly record: Record<string, RTCDataChannel> = {};

  constructor(private readonly live: () => boolean, private readonly emit: (event: RTCEvent) => void) {}

  register(channel: RTCDataChannel): void {
    if (channel.label === CONTROL_LABEL) return;
    const record = this.record;
    if (!(channel.label in record)) record[channel.label] = channel;
    const forward = (e: Event): void => {
      if (!this.live()) return;
      if (e.type === 'open' && !(channel.label in record)) record[channel.label] = channel;
      if (e.type === 'close' && record[channel.label] === channel) delete record[channel.label];
      this.emit(channelEvent(channel, e));
    };
    for (const type of CHANNEL_EVENTS) channel.addEventListener(type, forward);
  }
}

/**
 * Wraps two methods on this one peer connection object (not the prototype):
 * `createDataChannel`, so channels the app opens mid-call with `target.createDataChannel()`
 * get the same events as the others; and `close`, so an app that closes `target` itself
 * ends the call (a local close fires no event).
 */
export function interceptPeer(pc: RTCPeerConnection, hooks: { channel(c: RTCDataChannel): void; closed(): void }): void {
  const create = pc.createDataChannel.bind(pc);
  const close = pc.close.bind(pc);
  const define = (name: string, value: unknown): void => {
    Object.defineProperty(pc, name, { configurable: true, writable: true, value });
  };
  define('createDataChannel', (label: string, init?: RTCDataChannelInit): RTCDataChannel => {
    const channel = create(label, init);
    hooks.channel(channel);
    return channel;
  });
  define('close', (): void => {
    close();
    hooks.closed();
  });
}
