/**
 * One realtime connection. Inbound pipeline: size check → decode → validate →
 * rate-limit → dispatch (serially, so a join's ack and notices precede the
 * next frame's effects). Every reply, including the error for a frame refused
 * before dispatch, goes through that one serial queue, so replies leave in
 * request order. Outbound: prebuilt frames; when the socket's unsent bytes
 * exceed `limits.maxBufferedBytes` the client is closed as a slow consumer.
 *
 * Write batching: the first frame a socket gets in an event-loop tick corks the
 * raw socket and a `process.nextTick` uncorks it, so all the frames it gets in
 * that tick (several broadcasts, a post's copy and its ack) leave in one write
 * instead of one system call each. Frames keep their order (they queue in the
 * socket's own buffer, as do ws's close and ping frames) and `bufferedAmount`
 * counts the corked bytes, so the slow-consumer check sees them.
 */
import {
  CLOSE_CODES, RATE_LIMIT_FLOOD_FACTOR, decodeClientMessage, type CloseCodeName, type ErrorCode, type UserInfo,
} from '@switchboard/protocol';
import type { Duplex } from 'node:stream';
import { WebSocket, type RawData } from 'ws';
import type { ServerContext, Session } from '../context.js';
import { dispatch, handleDisconnect, NO_REPLY } from '../handlers/index.js';
import { RequestError } from '../request-error.js';
import { buildFrame, type FrameSink, type OutboundFrame } from '../state/delivery.js';
import { whenDrained } from './drain.js';
import { TokenBucket, ViolationWindow } from './rate-limit.js';

const MAX_TIMER_MS = 2 ** 31 - 1;
/** After a close frame was queued, how long the peer gets to complete the close handshake. */
const CLOSE_GRACE_MS = 5_000;
/**
 * How long a slow consumer gets to read its backlog before its close frame goes out (4002);
 * past that (or when the heartbeat finds it silent) it is dropped without one (1006).
 */
const SLOW_CONSUMER_DRAIN_MS = 30_000;

/** nextTick callback (no closure per tick): sends what the connection queued during the tick. */
const flushWrites = (connection: Connection): void => connection.flushWrites();

export interface ConnectionInit {
  cid: string;
  user: UserInfo;
  /** Unix ms when the token expires; the connection closes with TOKEN_EXPIRED (4004) then. */
  tokenExpiresAt: number;
}

export class Connection implements Session, FrameSink {
  readonly cid: string;
  readonly user: UserInfo;
  /** Set by any inbound frame or pong; cleared by each heartbeat sweep. */
  alive = true;
  private closing = false;
  /** Closing once the queue is done: new frames are ignored, accepted ones still get their reply. */
  private refusing = false;
  private closed = false;
  private counted = false;
  /** The socket is corked until the end of the current tick (see the module comment). */
  private corked = false;
  private queue: Promise<unknown>;
  private readonly bucket: TokenBucket;
  private readonly violations: ViolationWindow;
  private readonly floods: ViolationWindow;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Resolves once the socket closed and the connection's state was cleaned up. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    private readonly ws: WebSocket,
    /** The TCP or TLS socket under `ws` (from the upgrade), corked to batch writes. */
    private readonly socket: Duplex,
    init: ConnectionInit,
    private readonly ctx: ServerContext,
  ) {
    this.cid = init.cid;
    this.user = init.user;
    const limits = ctx.config.limits;
    this.bucket = new TokenBucket(limits.messagesPerSecond, limits.messageBurst);
    this.violations = new ViolationWindow(limits.maxViolations, limits.violationWindowMs);
    this.floods = new ViolationWindow(limits.messageBurst * RATE_LIMIT_FLOOD_FACTOR, limits.violationWindowMs);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));

    // Listen at once: frames may arrive before the welcome went out; they queue behind start().
    ws.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    ws.on('pong', () => (this.alive = true));
    ws.on('error', (err) => ctx.log.debug({ cid: this.cid, err: err.message }, 'socket error'));
    ws.on('close', (code) => this.onClose(code));
    this.queue = this.start(init.tokenExpiresAt);
  }

  private async start(tokenExpiresAt: number): Promise<void> {
    const { ctx } = this;
    try {
      await ctx.store.addConnection({ cid: this.cid, user: this.user, node: ctx.node, connectedAt: Date.now(), group: null });
    } catch (err) {
      // Only a shared store fails here (Redis unreachable): the client reconnects with backoff.
      ctx.log.warn({ cid: this.cid, err: (err as Error).message }, 'could not register the connection');
      this.closeWith('NODE_LOST', 'The cluster store is unreachable; reconnect.');
      return;
    }
    if (this.closed) return;
    ctx.delivery.register(this);
    ctx.metrics.connections.inc();
    this.counted = true;
    const ice = ctx.ice.forUser(this.user.user_id);
    this.send(buildFrame({ type: 'welcome', cid: this.cid, user: this.user, limits: ctx.wireLimits, ...ice, node: ctx.node }));
    this.scheduleTokenExpiry(tokenExpiresAt);
    this.scheduleIceRefresh(ice.iceExpiresAt);
    ctx.log.info({ cid: this.cid, user: this.user.user_id }, 'connected');
  }

  private scheduleTokenExpiry(expiresAt: number): void {
    const delay = expiresAt - Date.now();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (Date.now() >= expiresAt) this.closeWith('TOKEN_EXPIRED', 'Token expired.');
      else this.scheduleTokenExpiry(expiresAt);
    }, Math.max(0, Math.min(delay, MAX_TIMER_MS)));
    this.timers.add(timer);
  }

  /** Pushes fresh TURN credentials at 80% of the current ones' remaining lifetime. */
  private scheduleIceRefresh(expiresAt: number | null): void {
    if (expiresAt === null) return;
    const delay = Math.max(0, Math.floor((expiresAt - Date.now()) * 0.8));
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const bundle = this.ctx.ice.forUser(this.user.user_id);
      this.send(buildFrame({ type: 'ice', ...bundle }));
      this.scheduleIceRefresh(bundle.iceExpiresAt);
    }, Math.min(delay, MAX_TIMER_MS));
    this.timers.add(timer);
  }

  // ------------------------------------------------------------------ inbound

  private onFrame(data: RawData, isBinary: boolean): void {
    this.alive = true;
    if (this.closing || this.refusing) return;
    const { metrics, config } = this.ctx;
    if (isBinary) {
      metrics.messagesIn.inc({ type: 'invalid' });
      this.refuse(null, 'MALFORMED_FRAME', 'Binary frames are not supported; send JSON text.');
      return;
    }
    const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const text = buffer.toString('utf8');
    if (buffer.length > config.limits.maxFrameBytes) {
      metrics.messagesIn.inc({ type: 'invalid' });
      this.refuse(
        requestIdOf(text),
        'PAYLOAD_TOO_LARGE',
        `Frame is ${buffer.length} bytes; the limit is ${config.limits.maxFrameBytes}.`,
      );
      return;
    }
    const decoded = decodeClientMessage(text);
    if (!decoded.ok) {
      metrics.messagesIn.inc({ type: 'invalid' });
      this.refuse(decoded.error.id, decoded.error.code, decoded.error.message);
      return;
    }
    const message = decoded.value;
    metrics.messagesIn.inc({ type: message.type });
    const id = 'id' in message && typeof message.id === 'number' ? message.id : null;
    if (!this.bucket.take()) {
      this.refuse(id, 'RATE_LIMITED', `More than ${config.limits.messagesPerSecond} messages per second; slow down.`, true);
      return;
    }
    this.enqueue(async () => {
      if (this.closing) return;
      try {
        const result = await dispatch(this.ctx, this, message);
        if (result !== NO_REPLY && id !== null) this.send(buildFrame({ type: 'ack', id, result }));
      } catch (err) {
        if (err instanceof RequestError) this.sendError(id, err.code, err.message);
        else {
          this.ctx.log.error({ cid: this.cid, type: message.type, err }, 'handler failed');
          this.sendError(id, 'INTERNAL', 'Internal server error.');
        }
      }
    });
  }

  /** Runs `task` after every frame accepted before it (the serial queue); never breaks the chain. */
  private enqueue(task: () => unknown): void {
    this.queue = this.queue.then(task).catch((err: unknown) => this.ctx.log.error({ cid: this.cid, err }, 'queued task failed'));
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
    this.enqueue(() => this.sendError(id, code, message));
    if (!(rateLimited ? this.floods : this.violations).record()) return;
    const what = rateLimited ? 'rate-limited' : 'invalid';
    this.ctx.log.warn({ cid: this.cid, user: this.user.user_id }, `policy violation: too many ${what} frames`);
    this.closeAfterQueue('POLICY_VIOLATION', `Too many ${what} frames.`);
  }

  /**
   * Stops taking frames and closes once every frame accepted so far got its reply. A queue
   * stuck behind a slow backend does not hold the connection open beyond CLOSE_GRACE_MS.
   */
  private closeAfterQueue(name: CloseCodeName, reason: string): void {
    if (this.refusing || this.closing) return;
    this.refusing = true;
    this.enqueue(() => this.closeWith(name, reason));
    this.addTimer(setTimeout(() => this.closeWith(name, reason), CLOSE_GRACE_MS));
  }

  // ------------------------------------------------------------------ outbound

  /** FrameSink: queue a prebuilt frame on this socket. */
  deliver(frame: OutboundFrame): boolean {
    return this.send(frame);
  }

  send(frame: OutboundFrame): boolean {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return false;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(flushWrites, this);
    }
    this.ws.send(frame.data, { binary: false });
    this.ctx.metrics.messagesOut.inc({ type: frame.type });
    if (this.ws.bufferedAmount > this.ctx.config.limits.maxBufferedBytes) {
      this.ctx.log.warn({ cid: this.cid, buffered: this.ws.bufferedAmount }, 'slow consumer');
      this.closeSlowConsumer();
    }
    return true;
  }

  /**
   * Uncorks the socket: everything queued since the first send of this tick goes out in one
   * write. Corks nest (ws corks around each frame it writes), so this only undoes our own.
   * Harmless once the socket ended (`end()` uncorks fully) or was destroyed.
   */
  flushWrites(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }

  /** Sends an `error` frame (the caller keeps it in request order). */
  sendError(id: number | null, code: ErrorCode, message: string): void {
    this.ctx.metrics.errors.inc({ code });
    this.send(buildFrame({ type: 'error', id, code, message }));
  }

  // ------------------------------------------------------------------ lifecycle

  /** Heartbeat: a ws-level ping. */
  ping(): void {
    if (!this.closing && this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }

  /** Closes with a documented close code; terminates if the peer does not finish the handshake. */
  closeWith(name: CloseCodeName, reason: string, graceMs = CLOSE_GRACE_MS): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    this.ctx.delivery.unregister(this.cid);
    this.sendClose(name, reason, graceMs);
  }

  private sendClose(name: CloseCodeName, reason: string, graceMs: number): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.close(CLOSE_CODES[name].code, reason);
    this.addTimer(setTimeout(() => this.ws.terminate(), graceMs));
  }

  /**
   * A close frame queued behind a full send buffer reaches a slow reader only after the whole
   * backlog, often after the handshake grace ran out (the client then saw 1006, not 4002). So
   * nothing more is queued, and the close frame goes out once the backlog has been read:
   * a client that reads slowly sees 4002. One that does not read within
   * SLOW_CONSUMER_DRAIN_MS is dropped without a close frame.
   */
  private closeSlowConsumer(): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    this.ctx.delivery.unregister(this.cid);
    this.addTimer(
      whenDrained(this.ws, SLOW_CONSUMER_DRAIN_MS, (drained) => {
        if (drained) this.sendClose('SLOW_CONSUMER', 'Slow consumer: send buffer overflowed.', CLOSE_GRACE_MS);
        else this.terminate('slow consumer did not read its backlog');
      }),
    );
  }

  private addTimer(timer: NodeJS.Timeout): void {
    timer.unref();
    this.timers.add(timer);
  }

  /** Drops the socket without a close handshake (dead peer). */
  terminate(why: string): void {
    this.ctx.log.info({ cid: this.cid, why }, 'terminating connection');
    this.closing = true;
    this.ctx.delivery.unregister(this.cid);
    this.flushWrites(); // what was queued this tick goes out first, as it did before batching
    this.ws.terminate();
  }

  private onClose(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.ctx.delivery.unregister(this.cid);
    this.queue = this.queue
      .then(async () => {
        await handleDisconnect(this.ctx, this.cid);
        if (this.counted) this.ctx.metrics.connections.dec();
        this.ctx.log.info({ cid: this.cid, code }, 'disconnected');
      })
      .catch((err: unknown) => this.ctx.log.error({ cid: this.cid, err }, 'disconnect cleanup failed'))
      .finally(() => this.resolveDone());
  }
}

/** The request id of an oversized frame, when it parses, so the error can be correlated. */
function requestIdOf(text: string): number | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'id' in parsed) {
      const id = (parsed as { id: unknown }).id;
      if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id;
    }
  } catch {
    // not JSON: no id
  }
  return null;
}
