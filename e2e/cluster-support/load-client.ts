/**
 * Node SDK clients for the cluster load suites, in the test process: each posts numbered
 * messages to its group (one post in flight at a time) and records what it receives, its
 * reconnect outcomes and its calls' events, so a test can check every acked message arrived at
 * every member once and in order, and that no cid changed and no call ended.
 */
import { Switchboard, type RealtimeEvent, type RTCEvent, type RTCResolved, type ReconnectedEvent, type RtcIncomingEvent } from '@switchboard/client/node';

export interface Numbered {
  s: string;
  n: number;
}

export class LoadClient {
  readonly sb: Switchboard;
  cid = '';
  /** sender → the n of each message received from it, in arrival order. */
  readonly received = new Map<string, number[]>();
  readonly acked: number[] = [];
  readonly failed: string[] = [];
  readonly outcomes: ReconnectedEvent[] = [];
  readonly closed: unknown[] = [];
  readonly incoming: RtcIncomingEvent[] = [];
  /** Data-channel texts of this client's call, in arrival order. */
  readonly texts: string[] = [];
  call: RTCResolved | null = null;
  private posted = 0;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private waiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    readonly group: string,
    url: string,
    token: () => Promise<string>,
  ) {
    this.sb = new Switchboard({ url, token, node: { bindAddress: '127.0.0.1' } });
  }

  async connect(): Promise<void> {
    this.cid = (await this.sb.connectRealtime(this.onEvent)).cid;
    await this.sb.joinRealtime({ group: this.group });
  }

  private readonly onEvent = (event: RealtimeEvent): void => {
    if (event.type === 'message') {
      const m = event.message as Numbered;
      if (typeof m?.s !== 'string' || typeof m.n !== 'number') return;
      let list = this.received.get(m.s);
      if (!list) this.received.set(m.s, (list = []));
      list.push(m.n);
    } else if (event.type === 'reconnect' && 'resumed' in event) this.outcomes.push(event);
    else if (event.type === 'rtc:closed') this.closed.push(event.message);
    else if (event.type === 'rtc:incoming') this.incoming.push(event);
    this.wake();
  };

  readonly rtcEvent = (event: RTCEvent): void => {
    if (event.type === 'message' && typeof event.data === 'string') this.texts.push(event.data);
    this.wake();
  };

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `check()` holds (re-checked on every event this client records). */
  async until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Posts numbered messages every `everyMs` until stop(). */
  start(everyMs: number): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const n = ++this.posted;
        try {
          await this.sb.postRealtime({ s: this.name, n } satisfies Numbered, this.group);
          this.acked.push(n);
        } catch (err) {
          this.failed.push(`${this.name}#${n} ${(err as { code?: string }).code}: ${(err as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, everyMs * (0.5 + Math.random())));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** This client calls `other` (data channel only); resolves once both ends' channel is open. */
  async callTo(other: LoadClient): Promise<void> {
    const connector = await this.sb.connectRTC({ cid: other.cid }, this.rtcEvent);
    await other.until(() => other.incoming.length > 0, 10_000, 'rtc:incoming');
    const accepted = await other.incoming[0]!.connectRTC({}, other.rtcEvent);
    if (!accepted) throw new Error(`${other.name}: the call stopped ringing before it was accepted`);
    other.call = accepted;
    this.call = await connector.connection;
    const open = (c: LoadClient) => c.call!.channels['default']?.readyState === 'open';
    await Promise.all([this.until(() => open(this), 10_000, 'open channel'), other.until(() => open(other), 10_000, 'open channel')]);
  }

  /** Sends `text` to the other end of the call and waits until it arrived there. */
  async roundTrip(other: LoadClient, text: string, timeoutMs = 10_000): Promise<void> {
    this.call!.channels['default']!.send(text);
    await other.until(() => other.texts.includes(text), timeoutMs, `data-channel text ${text}`);
  }

  close(): Promise<void> {
    return this.sb.closeRealtime().catch(() => undefined);
  }
}

/**
 * What the members of a group missed: for each sender and each member (the sender included: a
 * group post reaches it too), acked messages that never arrived, and arrivals out of order or twice.
 */
export function checkDelivery(
  members: Pick<LoadClient, 'name' | 'received'>[],
  acked: Map<string, number[]>,
): { delivered: number; lost: number; duplicates: number; outOfOrder: number } {
  let delivered = 0;
  let lost = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  for (const [sender, ns] of acked) {
    for (const member of members) {
      const got = member.received.get(sender) ?? [];
      const seen = new Set<number>();
      let last = 0;
      for (const n of got) {
        if (seen.has(n)) duplicates += 1;
        else if (n < last) outOfOrder += 1;
        seen.add(n);
        last = Math.max(last, n);
      }
      for (const n of ns) {
        if (seen.has(n)) delivered += 1;
        else lost += 1;
      }
    }
  }
  return { delivered, lost, duplicates, outOfOrder };
}
