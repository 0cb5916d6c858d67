import {
  CLOSE_CODES,
  DEFAULT_LIMITS,
  Emitter,
  SUBPROTOCOL,
  SwitchboardError,
  TOKEN_SUBPROTOCOL_PREFIX,
  WS_CLOSE_ABNORMAL,
  WS_CLOSE_NORMAL,
  isTerminalCloseCode,
  type AckResultOf,
  type IceServer,
  type ServerMessage,
  type WireLimits,
} from '@switchboard/protocol';
import { Backoff, RESUMABLE_MAX_DELAY_MS } from '../transport/backoff.js';
import { Pacer } from '../transport/pacer.js';
import { Transport } from '../transport/socket.js';
import type { Credential } from './auth.js';
import { explainFailure } from './diagnose.js';
import { closeCodeError } from './close-codes.js';
import { Heartbeat } from './heartbeat.js';
import { IceRefresh } from './ice-refresh.js';
import { decodeFrame } from './decode.js';
import { ORDINARY, PRIORITY, Requests, type MappedRequest, type OutgoingRequest, type RequestOptions } from './requests.js';
import { ResumeTracker } from './resume.js';
import { PAGE_HIDDEN_CLOSE, type SessionEvents, type SessionOptions, type SessionState, type Welcome } from './session-types.js';

export * from './session-types.js';

export { checkResult } from './decode.js';

/** One logical realtime session over successive sockets: idle → connecting → open → reconnecting → open … → closed. */
export class Session {
  readonly events = new Emitter<SessionEvents>();
  private current: SessionState = 'idle';
  private transport: Transport | null = null;
  private welcomed = false;
  private everWelcomed = false;
  private lastWelcome: Welcome | null = null;
  private credential: Credential | null = null;
  /** Bumped whenever a pending attempt must be abandoned (close, new attempt). */
  private generation = 0;
  private closing: { resolve: () => void; promise: Promise<void> } | null = null;
  private waiter: { resolve: (welcome: Welcome) => void; reject: (error: SwitchboardError) => void } | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set while the page is in the back/forward cache: no attempts until `wake()`. */
  private suspended = false;
  private readonly resume = new ResumeTracker();
  private readonly backoff: Backoff;
  private readonly requests: Requests;
  private readonly heartbeat: Heartbeat;
  /** Every frame this client sends takes a token: the server's rate limit is never hit. */
  private readonly pacer: Pacer;
  private readonly ice = new IceRefresh(() => this.request({ type: 'ice' }));

  constructor(private readonly options: SessionOptions) {
    this.backoff = new Backoff(options.backoff);
    this.requests = new Requests(options.requestTimeoutMs, () => this.welcomed);
    this.pacer = new Pacer(() => this.pump());
    this.heartbeat = new Heartbeat(
      // Skipped when the bucket is empty: requests are going out then, and their replies show the server is there.
      () => this.sendPaced(JSON.stringify({ type: 'ping', ts: Date.now() })),
      () => this.transport?.abort(WS_CLOSE_ABNORMAL, 'heartbeat timeout'),
    );
  }

  get state(): SessionState {
    return this.current;
  }

  /** The latest welcome (kept after the connection closes: limits, user). */
  get welcome(): Welcome | null {
    return this.lastWelcome;
  }

  /** The welcome of the connection in use, or null while there is none. */
  get connection(): Welcome | null {
    return this.welcomed ? this.lastWelcome : null;
  }

  get limits(): WireLimits {
    return this.lastWelcome?.limits ?? { ...DEFAULT_LIMITS };
  }

  get iceServers(): IceServer[] {
    return this.ice.servers;
  }

  /** Starts connecting; resolves with the first welcome (after the re-sync), rejects if it never comes. */
  start(): Promise<Welcome> {
    if (this.current !== 'idle' && this.current !== 'closed') throw new Error('Session already started.');
    const promise = new Promise<Welcome>((resolve, reject) => (this.waiter = { resolve, reject }));
    this.everWelcomed = false;
    this.backoff.reset();
    this.setState('connecting');
    void this.attempt();
    return promise;
  }

  /**
   * Sends a request, paced to the server's rate limit; it waits in the queue, in order, while the
   * session is not open (unless `priority`, used by the re-sync) and while the pacer holds it back.
   * Resolves with the ack's result (or what `options.map` makes of it): one promise per request.
   */
  request<F extends OutgoingRequest>(frame: F, priority?: boolean): Promise<AckResultOf<F['type']>>;
  request<F extends OutgoingRequest, R>(frame: F, options: MappedRequest<R>): Promise<R>;
  request(frame: OutgoingRequest, options: boolean | RequestOptions = false): Promise<unknown> {
    if (this.current === 'idle' || this.current === 'closed' || this.closing) {
      return Promise.reject(new SwitchboardError('CONNECTION_CLOSED', 'The realtime connection is closed.'));
    }
    // The ack's result must be an object: checkResult, or the caller's `map` checks it.
    const settings = typeof options === 'boolean' ? (options ? PRIORITY : ORDINARY) : options;
    const promise = this.requests.create(frame, settings);
    this.pump();
    return promise;
  }

  /** True while a dropped connection is being resumed (its requests are kept, its calls wait). */
  get resuming(): boolean {
    return this.current === 'reconnecting' && this.resume.canResume;
  }

  /**
   * The page went into the back/forward cache: its socket is dropped as in a network blip (the
   * server keeps the connection for a resume) and no attempt is made until `wake()`.
   */
  suspend(): void {
    if (this.suspended || this.closing || this.current === 'idle' || this.current === 'closed') return;
    this.suspended = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (this.transport) this.transport.abort(PAGE_HIDDEN_CLOSE, 'page hidden');
    else this.generation += 1; // an attempt still fetching its token
  }

  /** The page is back, online or visible: reconnect now rather than after the backoff delay. */
  wake(): void {
    const suspended = this.suspended;
    this.suspended = false;
    if (this.closing || (this.current !== 'reconnecting' && this.current !== 'connecting')) return;
    if (!suspended && this.reconnectTimer === undefined) return; // an attempt is under way
    if (this.transport) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    void this.attempt();
  }

  /** Puts queued requests on the wire as far as the connection and the pacer allow. */
  private pump(): void {
    // Nothing goes out during a replay: its answers say which requests still need sending.
    if (!this.welcomed || !this.transport || this.resume.replaying) return;
    this.requests.flush((text) => this.sendPaced(text), this.current !== 'open');
  }

  private sendPaced(text: string): boolean {
    const transport = this.transport;
    if (!transport?.isOpen || !this.pacer.take()) return false;
    const frame = this.resume.withReceipt(text, this.limits.maxFrameBytes);
    return transport.send(frame) && this.resume.sent(frame);
  }

  /** Closes on purpose (code 1000). Resolves once the socket is closed. */
  close(): Promise<void> {
    if (this.closing) return this.closing.promise;
    if (this.current === 'idle' || this.current === 'closed') return Promise.resolve();
    let resolve!: () => void;
    const promise = new Promise<void>((done) => (resolve = done));
    this.closing = { resolve, promise };
    this.generation += 1;
    this.stopTimers();
    if (this.transport) this.transport.close(WS_CLOSE_NORMAL, 'client closed');
    else this.finishClose(WS_CLOSE_NORMAL, '');
    return promise;
  }

  private async attempt(): Promise<void> {
    const generation = ++this.generation;
    let credential: Credential;
    try {
      credential = await this.options.tokens.get();
    } catch (error) {
      if (generation !== this.generation) return;
      const failure = error instanceof SwitchboardError ? error : new SwitchboardError('INTERNAL', String(error));
      if (failure.retryable) this.retry(failure);
      else this.fail(failure, undefined);
      return;
    }
    if (generation !== this.generation) return;
    this.credential = credential;
    const protocols = [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${credential.token}`];
    const url = this.resume.url(this.options.endpoints.realtime, this.everWelcomed ? (this.lastWelcome?.cid ?? null) : null);
    let transport: Transport;
    try {
      transport = new Transport(this.options.platform, url, protocols, {
        open: () => undefined,
        message: (text) => this.handleText(transport, text),
        close: (info) => void this.handleClose(transport, generation, info),
      });
    } catch (error) {
      this.fail(new SwitchboardError('INVALID_PARAMETER', `Cannot open a WebSocket: ${String(error)}`), undefined);
      return;
    }
    this.transport = transport;
    this.handshakeTimer = setTimeout(() => transport.abort(WS_CLOSE_ABNORMAL, 'no welcome in time'), this.options.requestTimeoutMs);
  }

  private handleText(transport: Transport, text: string): void {
    if (transport !== this.transport) return;
    this.heartbeat.touch();
    const frame = decodeFrame(text);
    if (frame === null) return; // Unknown or malformed frames from a newer server are ignored.
    const numbered = (frame as { seq?: unknown }).seq;
    const seq = typeof numbered === 'number' ? numbered : undefined;
    const verdict = this.resume.check(seq);
    if (verdict === 'duplicate') return; // replayed, but already processed before the drop
    // Frames went missing on the way: drop the socket as a network failure, the resume replays them.
    if (verdict === 'gap') return transport.abort(WS_CLOSE_ABNORMAL, 'sequence gap');
    this.dispatch(transport, frame);
    if (seq !== undefined && this.resume.replayDone()) this.replayed(transport);
  }

  private dispatch(transport: Transport, frame: ServerMessage): void {
    switch (frame.type) {
      case 'welcome':
        if (!this.welcomed) void this.handleWelcome(transport, frame);
        return;
      case 'ack':
        this.requests.handleAck(frame.id, frame.result);
        return;
      case 'error':
        if (frame.id !== null && frame.code === 'RATE_LIMITED' && this.requests.retry(frame.id)) {
          // Jitter bunched our frames at the server: wait a full token, then send it again, in order.
          this.pacer.empty();
          this.pump();
          return;
        }
        if (frame.id !== null && this.requests.handleError(frame.id, frame.code, frame.message)) return;
        this.events.emit('push', frame);
        return;
      case 'pong':
        return;
      case 'ice':
        this.ice.update(frame.iceServers, frame.iceExpiresAt);
        this.events.emit('push', frame);
        return;
      default:
        this.events.emit('push', frame);
    }
  }

  private async handleWelcome(transport: Transport, welcome: Welcome): Promise<void> {
    clearTimeout(this.handshakeTimer);
    const reconnect = this.everWelcomed;
    const previousCid = reconnect ? (this.lastWelcome?.cid ?? null) : null;
    const outcome = this.resume.welcomed(welcome);
    this.welcomed = true;
    this.everWelcomed = true;
    this.lastWelcome = welcome;
    this.backoff.reset();
    this.ice.update(welcome.iceServers, welcome.iceExpiresAt);
    this.pacer.reset(welcome.limits);
    this.heartbeat.start(welcome.limits.heartbeatMs);
    if (!outcome.resumed) {
      this.requests.failKept(() => new SwitchboardError('CONNECTION_CLOSED', 'The connection closed before the server answered (not resumed).'));
    }
    this.events.emit('welcome', { welcome, reconnect, previousCid, ...outcome });
    if (outcome.resumed) {
      // Same cid and group: no re-sync. The kept requests wait until the replay is processed.
      if (this.resume.replayDone()) this.replayed(transport);
      else this.handshakeTimer = setTimeout(() => transport.abort(WS_CLOSE_ABNORMAL, 'replay incomplete'), this.options.requestTimeoutMs);
      return;
    }
    try {
      await this.options.resync(reconnect);
    } catch {
      // The re-sync reports its own failures; the connection itself is fine.
    }
    this.opened(transport);
  }

  /** The replay after a resumed welcome is processed: the requests still unanswered go out again. */
  private replayed(transport: Transport): void {
    clearTimeout(this.handshakeTimer);
    this.opened(transport);
  }

  private opened(transport: Transport): void {
    if (transport !== this.transport || this.closing) return;
    this.setState('open');
    this.pump();
    this.waiter?.resolve(this.lastWelcome!);
    this.waiter = null;
  }

  private async handleClose(transport: Transport, generation: number, info: { code: number; reason: string; opened: boolean }): Promise<void> {
    if (transport !== this.transport) return;
    this.transport = null;
    const wasWelcomed = this.welcomed;
    this.welcomed = false;
    clearTimeout(this.handshakeTimer);
    this.ice.stop();
    this.heartbeat.stop();
    this.pacer.stop();
    // Closed on purpose, or by the server with 1000: the connection is gone, not away.
    if (this.closing || info.code === WS_CLOSE_NORMAL || isTerminalCloseCode(info.code)) this.resume.forget();
    if (this.resume.canResume) this.requests.keepSent();
    else this.requests.failSent(() => new SwitchboardError('CONNECTION_CLOSED', 'The connection closed before the server answered.'));
    if (this.closing) return this.finishClose(info.code, info.reason);
    if (isTerminalCloseCode(info.code)) return this.fail(closeCodeError(info.code, info.reason), info.code);
    if (wasWelcomed) {
      this.setState('reconnecting');
      this.events.emit('unexpectedClose', { code: info.code, reason: info.reason, resume: this.resume.canResume });
      if (info.code === CLOSE_CODES.TOKEN_EXPIRED.code) this.options.tokens.invalidateGuest();
      return this.retry(null);
    }
    // Failed before the welcome: find out whether the credentials were refused.
    const credential = this.credential;
    const { platform, endpoints, requestTimeoutMs } = this.options;
    const refusal = await explainFailure(transport, info.opened, credential, { fetch: platform.fetch, http: endpoints.http, timeoutMs: requestTimeoutMs });
    if (generation !== this.generation || this.closing) return;
    if (refusal?.final) {
      if (refusal.status === 401 && credential?.source === 'guest' && !credential.fresh) {
        this.options.tokens.invalidateGuest(); // A cached guest token expired: fetch a new one at once.
        void this.attempt();
        return;
      }
      return this.fail(refusal.error, undefined);
    }
    this.retry(refusal?.error ?? new SwitchboardError('CONNECTION_CLOSED', `The WebSocket closed before the server welcomed it (code ${info.code}).`));
  }

  private retry(error: SwitchboardError | null): void {
    if (this.current !== 'reconnecting') this.setState(this.everWelcomed ? 'reconnecting' : 'connecting');
    if (error) this.events.emit('connectionError', { error });
    if (this.suspended) return; // wake() tries again
    const next = this.backoff.next(this.resume.canResume ? RESUMABLE_MAX_DELAY_MS : undefined);
    if (!next) {
      const attempts = this.backoff.attempt;
      this.fail(
        new SwitchboardError('CONNECTION_CLOSED', `Could not connect to ${this.options.endpoints.realtime} (${attempts} reconnection attempts).`),
        undefined,
        false,
      );
      this.events.emit('gaveUp', { attempts });
      return;
    }
    this.events.emit('reconnecting', next);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.attempt();
    }, next.delayMs);
  }

  private fail(error: SwitchboardError, closeCode: number | undefined, emit = true): void {
    this.stopTimers();
    this.generation += 1;
    this.resume.forget();
    const transport = this.transport;
    this.transport = null;
    this.welcomed = false;
    transport?.abort(WS_CLOSE_NORMAL, '');
    this.setState('closed');
    this.requests.failAll(() => new SwitchboardError('CONNECTION_CLOSED', `The realtime connection stopped: ${error.message}`));
    this.waiter?.reject(error);
    this.waiter = null;
    if (emit) this.events.emit('fatal', { error, closeCode });
  }

  private finishClose(code: number, reason: string): void {
    const closing = this.closing;
    this.stopTimers();
    this.resume.forget();
    this.setState('closed');
    this.requests.failAll(() => new SwitchboardError('CONNECTION_CLOSED', 'closeRealtime() was called.'));
    this.waiter?.reject(new SwitchboardError('CONNECTION_CLOSED', 'closeRealtime() was called before the connection opened.'));
    this.waiter = null;
    this.closing = null;
    this.events.emit('closed', { code, reason });
    closing?.resolve();
  }

  private stopTimers(): void {
    this.suspended = false;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    clearTimeout(this.handshakeTimer);
    this.ice.stop();
    this.heartbeat.stop();
    this.pacer.stop();
  }

  private setState(state: SessionState): void {
    const previous = this.current;
    if (previous === state) return;
    this.current = state;
    this.events.emit('state', { state, previous });
  }
}
