/**
 * Node peers for the Node SDK suites: a Switchboard from the Node entry (ws + node-datachannel)
 * with its realtime events recorded, plus helpers to place, accept and use calls. No sleeps:
 * everything awaits an event, bounded in time.
 */
import { Switchboard, type NodeSwitchboardOptions } from '../src/node/index.js';
import type { RTCCallback, RTCEvent, RTCResolved, RtcIncomingEvent } from '../src/types.js';
import { Recorder } from './recorder.js';

/** Records RTC callback events; `waitFor` awaits one. */
export class RtcLog {
  readonly events: RTCEvent[] = [];
  private waiters: { predicate: (e: RTCEvent) => boolean; resolve: (e: RTCEvent) => void }[] = [];

  readonly cb: RTCCallback = (event) => {
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => {
      if (!w.predicate(event)) return true;
      w.resolve(event);
      return false;
    });
  };

  waitFor(predicate: (e: RTCEvent) => boolean, timeoutMs = 10_000, label = 'rtc event'): Promise<RTCEvent> {
    const found = this.events.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `Timed out waiting for ${label}; got ${JSON.stringify(this.events.map((e) => [e.type, ('state' in e ? e.state : undefined) ?? ('label' in e ? e.label : '')]))}`,
          ),
        );
      }, timeoutMs);
      const done = (event: RTCEvent): void => {
        clearTimeout(timer);
        resolve(event);
      };
      this.waiters.push({ predicate, resolve: done });
    });
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }
}

export class NodePeer {
  readonly sb: Switchboard;
  readonly rt = new Recorder();
  cid = '';
  user_id = '';

  constructor(options: NodeSwitchboardOptions) {
    this.sb = new Switchboard({ node: { bindAddress: '127.0.0.1' }, ...options });
  }

  async connect(group?: string): Promise<this> {
    const connected = await this.sb.connectRealtime(this.rt.cb);
    this.cid = connected.cid;
    this.user_id = connected.user.user_id;
    if (group) await this.sb.joinRealtime({ group });
    return this;
  }

  /** The next `rtc:incoming` at or after `from`. */
  async incoming(from = 0): Promise<RtcIncomingEvent> {
    return (await this.rt.waitFor((e) => e.type === 'rtc:incoming', from, 10_000, 'rtc:incoming')) as RtcIncomingEvent;
  }

  close(): Promise<void> {
    return this.sb.closeRealtime();
  }
}

/** Waits until `resolved.channels[label]` exists and is open. */
export async function openChannel(resolved: RTCResolved, log: RtcLog, label = 'default'): Promise<RTCDataChannel> {
  const ready = (): RTCDataChannel | undefined => {
    const channel = resolved.channels[label];
    return channel?.readyState === 'open' ? channel : undefined;
  };
  if (!ready()) await log.waitFor((e) => e.type === 'open' && e.label === label && ready() !== undefined, 10_000, `open ${label}`);
  return ready()!;
}

/** The next message on `label` that satisfies `match`. */
export function nextMessage(log: RtcLog, label: string, match: (data: unknown) => boolean = () => true): Promise<unknown> {
  return log
    .waitFor((e) => e.type === 'message' && e.label === label && match(e.data), 10_000, `message on ${label}`)
    .then((e) => (e.type === 'message' ? e.data : undefined));
}

/** a calls b (b accepts with `calleeParams`); resolves once both sides' `label` channels are open. */
export async function connectPair(
  a: NodePeer,
  b: NodePeer,
  params: { caller?: Record<string, unknown>; callee?: Record<string, unknown>; label?: string } = {},
): Promise<{ caller: RTCResolved; callee: RTCResolved; aLog: RtcLog; bLog: RtcLog; setupMs: number }> {
  const aLog = new RtcLog();
  const bLog = new RtcLog();
  const from = b.rt.mark();
  const started = performance.now();
  const connector = await a.sb.connectRTC({ cid: b.cid, ...params.caller }, aLog.cb);
  const incoming = await b.incoming(from);
  const callee = await incoming.connectRTC(params.callee ?? {}, bLog.cb);
  if (!callee) throw new Error('the call stopped ringing before it was accepted');
  const caller = await connector.connection;
  const label = params.label ?? 'default';
  await Promise.all([openChannel(caller, aLog, label), openChannel(callee, bLog, label)]);
  return { caller, callee, aLog, bLog, setupMs: performance.now() - started };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
