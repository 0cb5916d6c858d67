/**
 * The chaos run behind resume-chaos*.test.ts: Node SDK clients in groups post numbered messages
 * while their sockets are killed at random (server side: the TCP socket destroyed by the server;
 * client side: the SDK's ws terminated under it), then everything settles and the deliveries are
 * checked against the acks. Loopback only, bounded by `seconds` and the settle timeouts.
 */
import { nodePlatform, Switchboard } from '../src/node/index.js';
import type { Platform, RealtimeEvent, ReconnectedEvent } from '../src/types.js';
import { mapLimit, timedOut } from './resume-chaos-stats.js';

export interface ChaosOptions {
  clients: number;
  groupSize: number;
  seconds: number;
  /** Each client posts every postMinMs…postMaxMs (one post in flight at a time). */
  postMinMs: number;
  postMaxMs: number;
  /** Each client's socket is killed every killMinMs…killMaxMs (while it is up). */
  killMinMs: number;
  killMaxMs: number;
  /** Where each (re)connection goes: a cluster spreads them over its nodes. */
  realtimeUrl: (url: string) => string;
  token: (user_id: string) => Promise<string>;
  /** Server-side kill of a user's sockets; returns how many were dropped. */
  dropUser: (user_id: string) => number;
  baseUrl: string;
}

interface Post {
  s: number;
  n: number;
  t: number;
}

/** One SDK client and what it saw. */
export class ChaosClient {
  sb!: Switchboard;
  cid = '';
  up = false;
  socket: { terminate(): void; readyState: number } | null = null;
  /** sender index → the n of each message received from it, in arrival order. */
  readonly received = new Map<number, number[]>();
  readonly acked: number[] = [];
  readonly failed: { n: number; error: string }[] = [];
  readonly outcomes: ReconnectedEvent[] = [];
  /** Per resume: from the resume attempt's socket being opened to the last replayed frame (ms). */
  readonly replayMs: number[] = [];
  /** Per resume: from the kill to the resumed welcome (ms). */
  readonly outageMs: number[] = [];
  /** Post → receipt, for messages that came in a replay and for live ones (ms). */
  readonly replayedDelay: number[] = [];
  readonly liveDelay: number[] = [];
  /** Numbered frames that reached the socket again (dropped by the SDK as duplicates). */
  wireDuplicates = 0;
  killedAt = 0;
  kills = 0;
  /** Resumes whose socket went to another server (port) than the one before. */
  movedResumes = 0;
  private port = '';
  private replaying = false;
  private maxSeq = 0;
  posted = 0;

  constructor(
    readonly index: number,
    readonly user_id: string,
    readonly group: string,
  ) {}

  /** The platform's WebSocket, watched: remembers the live socket and times the replay after a resumed welcome. */
  platform(rewrite: (url: string) => string): Partial<Platform> {
    const client = this;
    const Base = nodePlatform().WebSocket as unknown as new (url: string, protocols?: string | string[]) => WebSocket & { terminate(): void };
    const Watched = class extends Base {
      private readonly openedAt = performance.now();
      private replayTo = 0;
      private first = true;
      private readonly moved: boolean;
      constructor(url: string, protocols?: string | string[]) {
        const to = rewrite(url);
        super(to, protocols);
        client.socket = this;
        const port = new URL(to).port;
        this.moved = client.port !== '' && client.port !== port;
        client.port = port;
      }
      override set onmessage(handler: ((event: MessageEvent) => void) | null) {
        super.onmessage = handler === null ? null : (event: MessageEvent) => this.watch(event, handler);
      }
      override get onmessage(): ((event: MessageEvent) => void) | null {
        return super.onmessage as ((event: MessageEvent) => void) | null;
      }
      private watch(event: MessageEvent, handler: (event: MessageEvent) => void): void {
        const text = typeof event.data === 'string' ? event.data : '';
        if (this.first) {
          this.first = false;
          const welcome = JSON.parse(text) as { resumed?: boolean; replayTo?: number };
          if (welcome.resumed === true) {
            client.outageMs.push(performance.now() - client.killedAt);
            if (this.moved) client.movedResumes += 1;
            if ((welcome.replayTo ?? 0) > client.maxSeq) this.replayTo = welcome.replayTo!;
            else client.replayMs.push(performance.now() - this.openedAt);
          } else client.maxSeq = 0; // a new connection numbers from 1
          return handler(event);
        }
        const seq = /^\{"seq":(\d+),/.exec(text)?.[1];
        if (seq === undefined) return handler(event);
        const n = Number(seq);
        if (n <= client.maxSeq) client.wireDuplicates += 1;
        client.maxSeq = Math.max(client.maxSeq, n);
        // The SDK hands frames to the callback synchronously: the flag marks what the replay brought.
        client.replaying = n <= this.replayTo;
        try {
          handler(event);
        } finally {
          client.replaying = false;
        }
        if (this.replayTo > 0 && n >= this.replayTo) {
          client.replayMs.push(performance.now() - this.openedAt);
          this.replayTo = 0;
        }
      }
    };
    return { WebSocket: Watched as unknown as Platform['WebSocket'] };
  }

  readonly onEvent = (event: RealtimeEvent): void => {
    if (event.type === 'message') {
      const post = event.message as Post;
      if (typeof post?.s !== 'number') return;
      let list = this.received.get(post.s);
      if (!list) this.received.set(post.s, (list = []));
      list.push(post.n);
      (this.replaying ? this.replayedDelay : this.liveDelay).push(Date.now() - post.t);
    } else if (event.type === 'reconnect' && 'resumed' in event) {
      this.outcomes.push(event);
      this.up = true;
    } else if (event.type === 'error' && event.closeCode !== undefined) {
      this.up = false;
    }
  };

  async post(): Promise<void> {
    const n = ++this.posted;
    try {
      await this.sb.postRealtime({ s: this.index, n, t: Date.now() } satisfies Post, this.group);
      this.acked.push(n);
    } catch (err) {
      this.failed.push({ n, error: (err as Error).message });
    }
  }
}

export interface ChaosResult {
  clients: ChaosClient[];
  kills: { server: number; client: number };
  seconds: { chaos: number; settle: number };
}

const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const clients = Array.from({ length: o.clients }, (_, i) => new ChaosClient(i, `chaos-${i}`, `g${Math.floor(i / o.groupSize)}`));
  await mapLimit(clients, 20, async (c) => {
    c.sb = new Switchboard({ url: o.baseUrl, token: () => o.token(c.user_id), platform: c.platform(o.realtimeUrl) });
    c.cid = (await c.sb.connectRealtime(c.onEvent)).cid;
    await c.sb.joinRealtime({ group: c.group });
    c.up = true;
  });
  const kills = { server: 0, client: 0 };
  const started = performance.now();
  const end = started + o.seconds * 1000;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };
  const posting = clients.map(async (c) => {
    while (performance.now() < end) {
      await new Promise((resolve) => later(between(o.postMinMs, o.postMaxMs), () => resolve(undefined)));
      if (performance.now() >= end) break;
      await c.post();
    }
  });
  const killLater = (c: ChaosClient) =>
    later(between(o.killMinMs, o.killMaxMs), () => {
      if (performance.now() >= end) return;
      if (c.up && c.socket?.readyState === 1) {
        c.up = false;
        c.killedAt = performance.now();
        c.kills += 1;
        // Half and half: the server destroys the TCP socket, or the SDK's ws dies under it.
        if (Math.random() < 0.5 && o.dropUser(c.user_id) > 0) kills.server += 1;
        else {
          c.socket.terminate();
          kills.client += 1;
        }
      }
      killLater(c);
    });
  clients.forEach(killLater);
  await timedOut(Promise.all(posting), o.seconds * 1000 + 30_000, 'posting loops');
  const chaos = (performance.now() - started) / 1000;
  for (const timer of timers) clearTimeout(timer);

  // Settle: every client up again, then a fence from each member reaches every member (all in
  // one connection's order, so whatever was owed to a member arrives before the fences).
  const settleStart = performance.now();
  await waitUntil(() => clients.every((c) => c.up && c.sb.cid !== null), 30_000, 'every client up again');
  await mapLimit(clients, 50, (c) => c.post());
  const fenced = (c: ChaosClient) => clients.filter((m) => m.group === c.group).every((m) => c.received.get(m.index)?.includes(m.posted));
  await waitUntil(() => clients.every(fenced), 30_000, 'the fences delivered');
  return { clients, kills, seconds: { chaos, settle: (performance.now() - settleStart) / 1000 } };
}

async function waitUntil(check: () => boolean, timeoutMs: number, label: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`chaos: timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
