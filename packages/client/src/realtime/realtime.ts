import { SwitchboardError, type UserInfo } from '@switchboard/protocol';
import { checkResult, type PushFrame, type Session } from '../session/session.js';
import type { RealtimeCallback, RealtimeEvent } from '../types.js';
import { invokeCallback } from './callback.js';
import { fromForm } from './forms.js';
import { TEXT } from './messages.js';
import * as validate from './validate.js';

export interface RealtimeHooks {
  /** Hang up every call (CallLayer.closeRTC({close_all:true})); resolves when the hangups were acked. */
  closeCalls(): Promise<void>;
}

/** postRealtime's answer, from the post's ack. */
function posted(result: unknown, type: string): { type: 'success'; message: string; delivered: number } {
  return { type: 'success', message: TEXT.messageSent, delivered: checkResult<{ delivered: number }>(result, type).delivered };
}

export interface Connected {
  cid: string;
  user: UserInfo;
}

/**
 * Skapi's realtime functions over a Session: connect/close, the one joined
 * group (re-joined after every reconnect), posts, and the app callback with
 * Skapi's event types, messages and fields.
 */
export class Realtime {
  private callback: RealtimeCallback | null = null;
  private connecting: Promise<Connected> | null = null;
  /** The cid the `connecting` promise resolved with. */
  private firstCid: string | null = null;
  private closing: Promise<void> | null = null;
  /** The group the server confirmed for the current connection. */
  private joined: string | null = null;
  /** The group the app asked for last (re-joined after a reconnect). */
  private wanted: string | null = null;

  constructor(
    private readonly session: Session,
    private readonly hooks: RealtimeHooks,
  ) {
    const events = session.events;
    events.on('welcome', ({ welcome, reconnect, resumed, reason, previousCid }) => {
      if (reconnect && previousCid !== null) {
        if (!resumed) this.joined = null; // a new connection: in no group until the re-join
        const message = resumed ? TEXT.resumed : TEXT.notResumed(reason);
        this.emit({ type: 'reconnect', message, resumed, ...(reason === undefined ? {} : { reason }), cid: welcome.cid, previousCid });
      }
      this.emit({ type: 'success', message: TEXT.connected });
    });
    events.on('connectionError', ({ error }) => this.emit({ type: 'error', message: TEXT.connectionError, ...(error ? { error } : {}) }));
    events.on('unexpectedClose', ({ code, resume }) => {
      if (!resume) this.joined = null;
      this.emit({ type: 'error', message: TEXT.unexpectedClose, closeCode: code });
    });
    events.on('reconnecting', ({ attempt, delayMs }) => this.emit({ type: 'reconnect', message: TEXT.reconnecting(attempt), attempt, delayMs }));
    events.on('gaveUp', () => {
      this.reset();
      this.emit({ type: 'error', message: TEXT.maxAttempts });
    });
    events.on('fatal', ({ error, closeCode }) => {
      this.reset();
      this.emit({ type: 'error', message: error.message, error, ...(closeCode === undefined ? {} : { closeCode }) });
    });
    events.on('closed', () => this.emit({ type: 'close', message: TEXT.closed }));
    events.on('push', (frame) => this.handlePush(frame));
  }

  /**
   * The group the app is in: the last one it asked for. Requests go out in order
   * after that join (or its re-join after a reconnect), so they see it.
   */
  get group(): string | null {
    return this.wanted;
  }

  connectRealtime(cb: RealtimeCallback): Promise<Connected> {
    if (typeof cb !== 'function') return Promise.reject(SwitchboardError.invalidRequest(TEXT.callbackNotFunction));
    this.callback = cb; // The latest callback wins (re-mounted components pass a fresh one).
    if (this.connecting) {
      // Same promise while the first connection lives; after a reconnect, the live cid instead.
      const live = this.session.state === 'open' ? this.session.welcome : null;
      if (!live || live.cid === this.firstCid) return this.connecting;
      return Promise.resolve({ cid: live.cid, user: live.user });
    }
    const pending = (async (): Promise<Connected> => {
      if (this.closing) await this.closing;
      const welcome = await this.session.start();
      this.firstCid = welcome.cid;
      return { cid: welcome.cid, user: welcome.user };
    })();
    this.connecting = pending;
    pending.catch(() => {
      if (this.connecting === pending) this.connecting = null;
    });
    return pending;
  }

  closeRealtime(): Promise<void> {
    if (this.closing) return this.closing;
    this.connecting = null;
    const state = this.session.state;
    if (state === 'idle' || state === 'closed') return Promise.resolve();
    const closing = (async () => {
      if (state === 'open') {
        // Leave and hang up first, and wait for the acks: frames sent after close() would be lost (Skapi bug §6.3).
        const tasks: Promise<unknown>[] = [this.hooks.closeCalls().catch(() => undefined)];
        if (this.joined !== null || this.wanted !== null) {
          tasks.push(this.session.request({ type: 'join', group: null }).catch(() => undefined));
        }
        await Promise.all(tasks);
      }
      this.joined = null;
      this.wanted = null;
      await this.session.close();
    })();
    this.closing = closing.finally(() => {
      this.closing = null;
    });
    return this.closing;
  }

  async joinRealtime(params: { group?: string | null } | undefined): Promise<{ type: 'success'; message: string }> {
    const group = validate.joinGroup(fromForm(params, { nullIfEmpty: true }));
    this.requireConnection();
    if (group === null && this.wanted === null && this.joined === null) return { type: 'success', message: TEXT.left };
    const previous = this.wanted;
    this.wanted = group;
    try {
      await this.join(group);
    } catch (error) {
      if (this.wanted === group) this.wanted = previous;
      throw error;
    }
    return { type: 'success', message: group === null ? TEXT.left : TEXT.joined(group) };
  }

  postRealtime(
    message: unknown,
    recipient: string,
    notification?: { title: string; body: string; config?: { always?: boolean } },
  ): Promise<{ type: 'success'; message: string; delivered: number }> {
    try {
      this.requireConnection();
      const to = validate.recipient(recipient);
      const payload = validate.jsonMessage(fromForm(message));
      const limits = this.session.limits;
      const note = validate.notification(notification, limits.maxNotificationBytes);
      const frame = note ? { type: 'post' as const, to, message: payload, notification: note } : { type: 'post' as const, to, message: payload };
      // Encoded once (requests.ts), where its size is checked too; no promise but the request's own.
      return this.session.request(frame, { maxBytes: limits.maxFrameBytes, unencodable: validate.invalidDataType, map: posted });
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** After every welcome: re-join the group the app was in. */
  async resync(reconnect: boolean): Promise<void> {
    const group = this.wanted;
    if (!reconnect || group === null) return;
    try {
      await this.join(group, true);
    } catch (error) {
      if (this.wanted === group) this.wanted = null;
      const failure = error instanceof SwitchboardError ? error : new SwitchboardError('INTERNAL', String(error));
      this.emit({ type: 'error', message: `Could not re-join "${group}": ${failure.message}`, error: failure });
    }
  }

  /** Throws Skapi's INVALID_REQUEST when connectRealtime() was not called (or the connection was closed). */
  requireConnection(): void {
    const state = this.session.state;
    if (state === 'idle' || state === 'closed' || this.closing) throw SwitchboardError.invalidRequest(TEXT.noConnection);
  }

  /** Delivers an event to the app; an app callback that throws (or rejects) does not break the SDK. */
  emit(event: RealtimeEvent): void {
    const callback = this.callback;
    if (callback) invokeCallback(callback, event, 'realtime');
  }

  private async join(group: string | null, priority = false): Promise<void> {
    this.joined = (await this.session.request({ type: 'join', group }, priority)).group;
  }

  private reset(): void {
    this.connecting = null;
    this.joined = null;
    this.wanted = null;
  }

  private handlePush(frame: PushFrame): void {
    switch (frame.type) {
      case 'message':
      case 'private':
        this.emit({
          type: frame.type,
          message: frame.message,
          sender: frame.sender,
          sender_cid: frame.sender_cid,
          sender_rid: frame.sender_rid,
          code: null,
        });
        return;
      case 'notice':
        this.emit({
          type: 'notice',
          message: frame.message,
          sender: frame.sender,
          sender_cid: frame.sender_cid,
          sender_rid: frame.sender_rid,
          code: frame.code,
        });
        return;
      case 'error':
        this.emit({
          type: 'error',
          message: frame.message,
          error: new SwitchboardError(frame.code, frame.message),
          sender: null,
          sender_cid: null,
          sender_rid: null,
          code: null,
        });
        return;
      case 'rtc': // The call layer hears these from the session itself.
      case 'ice': // The session keeps the list.
        return;
    }
  }
}
