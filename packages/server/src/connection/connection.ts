/**
 * One realtime connection. Inbound pipeline: size check → decode → validate → rate-limit (admit.ts)
 * → dispatch (serially, so a join's ack and notices precede the next frame's effects). Every reply,
 * including the error for a frame refused before dispatch, goes through that one serial queue, so
 * replies leave in request order. Outbound: prebuilt frames; when the socket's unsent bytes exceed
 * `limits.maxBufferedBytes` the client is closed as a slow consumer.
 *
 * Write batching: the first frame a socket gets in an event-loop tick corks the raw socket, and
 * the tick's end uncorks it (one `process.nextTick` for all sockets corked in it: tick-flush.ts),
 * so all the frames it gets in that tick (broadcasts, a post's copy and its ack) leave in one
 * write instead of one system call each. Frames keep their order (they queue in the socket's
 * buffer, as do ws's close and pings); `bufferedAmount` counts corked bytes. A frame that may
 * wait (a relayed signal's ack) on a socket with nothing else to send holds it corked for up to
 * `rtc.ackDelayMs`, so the peer's answer, usually much sooner, shares its write. A frame that finds
 * the queue idle runs at once, without a promise when it can (run-frame.ts).
 *
 * Resume (docs/adr/0008-resume.md): numbered frames, replies included, go through the
 * delivery by cid, which buffers them for replay first (a reply made after the socket died is
 * replayed). Starting and closing with resume: resume-start.ts; the seq order: seq-order.ts.
 * No closure per connection: the socket's listeners are shared (socket-listeners.ts).
 */
import {
  CLOSE_CODES,
  RATE_LIMIT_FLOOD_FACTOR,
  WS_CLOSE_GOING_AWAY,
  WS_CLOSE_NORMAL,
  type CloseCodeName,
  type ErrorCode,
  type UserInfo,
} from '@switchboard/protocol';
import type { Duplex } from 'node:stream';
import { WebSocket, type RawData } from 'ws';
import type { ServerContext } from '../context.js';
import { RequestLog } from '../resume/index.js';
import { buildFrame, type FrameSink, type OutboundFrame } from '../state/delivery.js';
import { frameBytes, TextFrame } from '../state/outbound-frame.js';
import { whenDrained } from './drain.js';
import { admitFrame } from './admit.js';
import { bufferedType } from './frame-info.js';
import { afterClose, startConnection, type ResumeAttempt, type Started } from './resume-start.js';
import { confirmedSeq, DeliveryProbe } from './delivery-probe.js';
import { SeqOrder } from './seq-order.js';
import { corkFor, HELD, UNCORKED, type Cork } from './tick-flush.js';
import { reply, runFrame, type FrameRunner } from './run-frame.js';
import { SerialQueue, type QueueOwner } from './serial-queue.js';
import { listenTo, type SocketOwner } from './socket-listeners.js';
import { cancelDeadlines, expireTokenAt, scheduleIceRefresh } from './timers.js';
import { TokenBucket, ViolationWindow } from './rate-limit.js';

/** After a close frame was queued, how long the peer gets to complete the close handshake. */
const CLOSE_GRACE_MS = 5_000;
/** How long a slow consumer gets to read its backlog before its close (4002); then, or when silent, it is dropped (1006). */
const SLOW_CONSUMER_DRAIN_MS = 30_000;

const SETTLED: Promise<void> = Promise.resolve();
const TEXT = { binary: false } as const; // ws copies its options: one object for every text frame

export interface ConnectionInit {
  cid: string;
  user: UserInfo;
  /** Unix ms when the token expires; the connection closes with TOKEN_EXPIRED (4004) then. */
  tokenExpiresAt: number;
  /** The client asked to resume (`?resume=`); null otherwise. */
  resume?: ResumeAttempt | null;
  /** Called once the socket closed and the state was cleaned up (one function for all connections). */
  onDone?: (connection: Connection) => void;
}

export class Connection implements FrameRunner, FrameSink, QueueOwner, SocketOwner {
  /** Set once the start decided it (a resume keeps the old cid). */
  cid: string;
  readonly user: UserInfo;
  /** Resume generation of the cid (0 until a resume); with requestLog, drops re-sent requests that already ran. */
  generation = 0;
  requestLog = new RequestLog();
  private requests = 0;
  /** Numbered frames that arrived before the welcome and replay went out; null once started. */
  early: { frame: OutboundFrame; seq: number }[] | null = [];
  /** Numbered frames onto the socket in seq order, once each. */
  private readonly order = new SeqOrder(this);
  /** This connection has a hold in the replay store (its cid is resumable). */
  held = false;
  /** The cid lives on without this socket (resumed by another, or handed off by a leaving node): no cleanup. */
  private livesOn = false;
  private closeName: CloseCodeName | null = null; // the close code this side sent
  /** Set by any inbound frame or pong; cleared by each heartbeat sweep. */
  alive = true;
  private readonly probe = new DeliveryProbe();
  private closing = false;
  /** Closing once the queue is done: new frames are ignored, accepted ones still get their reply. */
  private refusing = false;
  private closed = false;
  private counted = false;
  /** Whether the socket is corked, and until when (tick-flush.ts). */
  corked: Cork = UNCORKED;
  private readonly queue: SerialQueue;
  /** Made on first use (an idle connection holds none): the rate limit, the two violation windows, the close timers. */
  private bucket: TokenBucket | null = null;
  private violations: ViolationWindow | null = null;
  private floods: ViolationWindow | null = null;
  private timers: Set<NodeJS.Timeout> | null = null;
  private donePromise: Promise<void> | null = null; // made when asked for (`done`)
  private resolveDone: (() => void) | null = null;
  private readonly onDone: ((connection: Connection) => void) | undefined;

  constructor(
    private readonly ws: WebSocket,
    /** The TCP or TLS socket under `ws` (from the upgrade), corked to batch writes. */
    private readonly socket: Duplex,
    init: ConnectionInit,
    readonly ctx: ServerContext,
  ) {
    this.cid = init.cid;
    this.user = init.user;
    this.onDone = init.onDone;
    // Listen at once: frames may arrive before the welcome went out; they queue behind start().
    listenTo(ws, this);
    this.queue = new SerialQueue(this.start(init.tokenExpiresAt, init.resume ?? null), this);
  }

  taskFailed(err: unknown): void {
    this.ctx.log.error({ cid: this.cid, err }, 'queued task failed');
  }

  /** Resolves once the socket closed and the connection's state was cleaned up. */
  get done(): Promise<void> {
    return (this.donePromise ??= new Promise((resolve) => (this.resolveDone = resolve)));
  }

  private async start(tokenExpiresAt: number, attempt: ResumeAttempt | null): Promise<void> {
    const { ctx } = this;
    let started: Started;
    try {
      started = await startConnection(ctx, this, attempt);
    } catch (err) {
      // Only a shared store fails here (Redis unreachable): the client reconnects with backoff.
      ctx.log.warn({ cid: this.cid, err: (err as Error).message }, 'could not register the connection');
      ctx.delivery.unregister(this.cid, this);
      this.early = null;
      this.closeWith('NODE_LOST', 'The cluster store is unreachable; reconnect.');
      return;
    }
    ctx.resume?.local.set(this.cid, this);
    ctx.metrics.connections.inc();
    this.counted = true;
    const ice = ctx.ice.forUser(this.user.user_id);
    const { welcome, replay, replayTo } = started;
    this.send(buildFrame({ type: 'welcome', cid: this.cid, user: this.user, limits: ctx.wireLimits, ...ice, node: ctx.node, ...welcome }));
    if (replay.length > 0) ctx.metrics.replayedFrames.inc(replay.length);
    const early = this.early ?? [];
    this.early = null;
    this.order.begin(
      replay.map(({ seq, data }) => ({ seq, frame: { type: bufferedType(data), data } })),
      replayTo,
      early,
    );
    // Closed while starting: nothing may keep it scheduled (its deadlines are cancelled on close).
    if (!this.closed) {
      expireTokenAt(this, tokenExpiresAt);
      scheduleIceRefresh(this, ice.iceExpiresAt);
    }
    ctx.log.info({ cid: this.cid, user: this.user.user_id, resumed: welcome.resumed, reason: welcome.resumeReason }, 'connected');
  }

  /** Pushes fresh TURN credentials (timers.ts schedules it); returns their expiry. */
  refreshIce(): number | null {
    const bundle = this.ctx.ice.forUser(this.user.user_id);
    this.send(buildFrame({ type: 'ice', ...bundle }));
    return bundle.iceExpiresAt;
  }

  /** Resumed by a newer socket here: drop this one, hand over the request log. */
  takeOver(): RequestLog {
    this.takenOver();
    return this.requestLog;
  }

  /** Resumed elsewhere (or here): drop the socket, keep the cid's state (it lives on). */
  takenOver(): void {
    if (this.livesOn) return;
    this.livesOn = true;
    if (this.ctx.resume?.local.get(this.cid) === this) this.ctx.resume.local.delete(this.cid);
    if (!this.closed) this.terminate('resumed by a newer socket');
  }

  /** The node is leaving (cluster): the cid goes away for a resume on another node; no cleanup here. */
  async handOff(): Promise<void> {
    if (!this.held || this.closed || this.livesOn) return;
    this.livesOn = true;
    await this.ctx.resume?.replay.away(this.cid, this.generation).catch(() => undefined);
  }

  // ------------------------------------------------------------------ inbound

  onFrame(data: RawData, isBinary: boolean): void {
    this.alive = true;
    if (this.closing || this.refusing) return;
    const limits = this.ctx.config.limits;
    const admitted = admitFrame(data, isBinary, this.ctx, (this.bucket ??= new TokenBucket(limits.messagesPerSecond, limits.messageBurst)));
    if (!admitted.ok) {
      this.refuse(admitted.id, admitted.code, admitted.message, admitted.rateLimited);
      return;
    }
    const { message, id } = admitted;
    if (message.rx !== undefined && this.held) this.confirm(message.rx, true);
    if (this.queue.idle && this.early === null) {
      // Nothing ahead of it: run now; only what is left to await joins the queue.
      const rest = runFrame(this, message, id);
      if (rest !== undefined) this.queue.push(() => rest);
      return;
    }
    this.queue.push(() => runFrame(this, message, id));
  }

  accepting(): boolean {
    return !this.closing;
  }

  startRequest(id: number): boolean {
    if (!this.held) return true;
    // Re-sent after a resume and already started under an earlier generation: its reply was
    // replayed or is still to come from the first run.
    if (this.requestLog.isDuplicate(id, this.generation)) return false;
    this.requestLog.record(id, this.generation);
    this.ctx.resume?.replay.logRequest(this.cid, id, this.generation, ++this.requests);
    return true;
  }

  /**
   * Answers a frame refused before dispatch, behind the replies to the frames before it, and
   * counts it. Invalid or oversized frames are violations: more than `maxViolations` within the
   * window close the connection with POLICY_VIOLATION (4500). A rate-limited frame is not: an
   * honest client may overshoot the bucket now and then; only a flood of them (more than
   * RATE_LIMIT_FLOOD_FACTOR × `messageBurst` within the window) closes the connection.
   * Errors about a valid request (RECIPIENT_NOT_FOUND, FORBIDDEN, …) are answers, not abuse,
   * and never count: trickled candidates to a peer that just left must not end in a terminal close.
   */
  private refuse(id: number | null, code: ErrorCode, message: string, rateLimited = false): void {
    this.queue.push(() => this.sendError(id, code, message));
    const { maxViolations, messageBurst, violationWindowMs } = this.ctx.config.limits;
    const window = rateLimited
      ? (this.floods ??= new ViolationWindow(messageBurst * RATE_LIMIT_FLOOD_FACTOR, violationWindowMs))
      : (this.violations ??= new ViolationWindow(maxViolations, violationWindowMs));
    if (!window.record()) return;
    const what = rateLimited ? 'rate-limited' : 'invalid';
    this.ctx.log.warn({ cid: this.cid, user: this.user.user_id }, `policy violation: too many ${what} frames`);
    this.closeAfterQueue('POLICY_VIOLATION', `Too many ${what} frames.`);
  }

  /** Stops taking frames and closes once every accepted frame got its reply (at most CLOSE_GRACE_MS behind a slow backend). */
  private closeAfterQueue(name: CloseCodeName, reason: string): void {
    if (this.refusing || this.closing) return;
    this.refusing = true;
    this.queue.push(() => this.closeWith(name, reason));
    this.addTimer(setTimeout(() => this.closeWith(name, reason), CLOSE_GRACE_MS));
  }

  // ------------------------------------------------------------------ outbound

  /** FrameSink: a prebuilt frame for this socket (held back until the welcome went out). */
  deliver(frame: OutboundFrame, seq: number): boolean {
    if (frame.answers != null && seq > 0) this.requestLog.answer(frame.answers, seq);
    if (this.early) {
      if (this.closing) return false;
      this.early.push({ frame, seq });
      return true;
    }
    const queued = this.order.push(frame, seq);
    if (seq > 0 && this.probe.wrote(this.order.sent, frameBytes(frame))) this.ping();
    return queued;
  }

  onPong(data: Buffer): void {
    this.alive = true;
    if (this.held) this.confirm(confirmedSeq(data, this.order.sent), false);
  }

  /** The client has every frame through `seq`: a pong's, or a frame's `rx`, which also stands for a probe answered now. */
  private confirm(seq: number, receipt: boolean): void {
    if (seq <= 0 || seq > this.order.sent) return;
    // Nothing left to write: this socket reads none of the confirmed frames' bytes any more.
    this.ctx.resume?.replay.received(this.cid, seq, this.ws.bufferedAmount === 0);
    this.requestLog.confirmed(seq);
    this.probe.answered(seq, receipt);
  }

  send(frame: OutboundFrame): boolean {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return false;
    corkFor(this, this.socket, frame.mayWait === true ? this.ctx.config.rtc.ackDelayMs : 0);
    this.ws.send(frame instanceof TextFrame && frame.single ? frame.text : frame.data, TEXT);
    this.ctx.metrics.messagesOut.count(frame.type);
    if (this.ws.bufferedAmount > this.ctx.config.limits.maxBufferedBytes) {
      this.ctx.log.warn({ cid: this.cid, buffered: this.ws.bufferedAmount }, 'slow consumer');
      this.closeSlowConsumer();
    }
    return true;
  }

  /** Uncorks: what was queued since the first send goes out in one write (corks nest: this undoes only ours; harmless once ended or destroyed). */
  flushWrites(): void {
    if (this.corked === UNCORKED) return;
    this.corked = UNCORKED;
    this.socket.uncork();
  }

  /** Sends an `error` frame (the caller keeps it in request order); one with an id is a reply. */
  sendError(id: number | null, code: ErrorCode, message: string): Promise<void> | undefined {
    this.ctx.metrics.errors.inc({ code });
    const frame = buildFrame({ type: 'error', id, code, message });
    if (id !== null) return reply(this, frame);
    this.send(frame);
    return undefined;
  }

  // ------------------------------------------------------------------ lifecycle
  /** Heartbeat, and delivery probe: a ws-level ping carrying the highest seq written, unless already asked about (onPong). */
  ping(): void {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.ping(this.probe.ask(this.held ? this.order.sent : 0));
  }

  /** Closes with a documented close code; terminates if the peer does not finish the handshake. */
  closeWith(name: CloseCodeName, reason: string, graceMs = CLOSE_GRACE_MS): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    this.closeName = name;
    this.ctx.delivery.unregister(this.cid, this);
    this.sendClose(name, reason, graceMs);
  }

  private sendClose(name: CloseCodeName, reason: string, graceMs: number): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.close(CLOSE_CODES[name].code, reason);
    if (this.corked === HELD) this.flushWrites(); // a waiting ack goes now, with the close frame
    this.addTimer(setTimeout(() => this.ws.terminate(), graceMs));
  }

  /** The close (4002) goes out once the backlog was read (queued behind it, it came after the grace: 1006); a client not reading within SLOW_CONSUMER_DRAIN_MS is dropped. */
  private closeSlowConsumer(): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    this.ctx.delivery.unregister(this.cid, this);
    this.addTimer(
      whenDrained(this.ws, SLOW_CONSUMER_DRAIN_MS, (drained) => {
        if (drained) this.sendClose('SLOW_CONSUMER', 'Slow consumer: send buffer overflowed.', CLOSE_GRACE_MS);
        else this.terminate('slow consumer did not read its backlog');
      }),
    );
  }

  private addTimer(timer: NodeJS.Timeout): void {
    (this.timers ??= new Set()).add(timer.unref());
  }

  /** Drops the socket without a close handshake (dead peer). */
  terminate(why: string): void {
    this.ctx.log.info({ cid: this.cid, why }, 'terminating connection');
    this.closing = true;
    this.ctx.delivery.unregister(this.cid, this);
    this.flushWrites(); // what was queued this tick goes out first, as it did before batching
    this.ws.terminate();
  }

  onClose(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    for (const timer of this.timers ?? []) clearTimeout(timer);
    this.timers = null;
    cancelDeadlines(this);
    this.order.stop();
    this.ctx.delivery.unregister(this.cid, this);
    this.queue.push(async () => {
      try {
        const away = await this.leave(code);
        if (this.counted) this.ctx.metrics.connections.dec();
        this.ctx.log.info({ cid: this.cid, code, away }, 'disconnected');
      } catch (err) {
        this.ctx.log.error({ cid: this.cid, err }, 'disconnect cleanup failed');
      } finally {
        this.donePromise ??= SETTLED;
        this.resolveDone?.();
        this.onDone?.(this);
      }
    });
  }

  private leave(code: number): Promise<boolean> {
    this.ctx.delivery.unregister(this.cid, this); // in case the start registered it after the close
    const name = this.closeName; // a single node shutting down takes its resume state with it: ends as ever
    const final = code === WS_CLOSE_NORMAL || code === WS_CLOSE_GOING_AWAY || (name !== null && (!CLOSE_CODES[name].reconnect || name === 'SERVER_SHUTDOWN'));
    return afterClose(this.ctx, this, { final, livesOn: this.livesOn });
  }
}
