import { CLOSE_CODES, WS_CLOSE_ABNORMAL, WS_CLOSE_NORMAL } from '@switchboard/protocol';
import type { Platform } from '../types.js';

export interface SocketHandlers {
  open(): void;
  message(text: string): void;
  /** Called once, whatever the reason; `opened` says whether `open` was seen. */
  close(info: { code: number; reason: string; opened: boolean }): void;
}

/** What the HTTP upgrade answered when it was not a 101 (only where the platform can see it, i.e. Node). */
export interface UpgradeFailure {
  status: number;
  body: string;
}

/**
 * One WebSocket, wrapped: text frames in, a single close callback out, and
 * `abort()` to drop a dead connection without waiting for a closing handshake.
 * The constructor is injected (browser global or `ws`).
 */
export class Transport {
  private readonly socket: WebSocket;
  private opened = false;
  private finished = false;
  private forceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly platform: Platform,
    url: string,
    protocols: string[],
    private readonly handlers: SocketHandlers,
  ) {
    this.socket = new platform.WebSocket(url, protocols);
    this.socket.onopen = () => {
      if (this.finished) return;
      this.opened = true;
      handlers.open();
    };
    this.socket.onmessage = (event: MessageEvent) => {
      if (this.finished) return;
      if (typeof event.data === 'string') handlers.message(event.data);
    };
    this.socket.onclose = (event: CloseEvent) => this.finish(event.code, event.reason);
    // Errors are always followed by a close event; the close carries what we act on.
    // (Never cleared: `ws` throws on an 'error' nobody listens to.)
    this.socket.onerror = () => undefined;
  }

  get isOpen(): boolean {
    return this.opened && !this.finished && this.socket.readyState === 1;
  }

  /** The negotiated subprotocol. */
  get protocol(): string {
    return this.socket.protocol;
  }

  upgradeFailure(): UpgradeFailure | undefined {
    return this.platform.upgradeFailure?.(this.socket);
  }

  send(text: string): boolean {
    if (!this.isOpen) return false;
    this.socket.send(text);
    return true;
  }

  /** Bytes queued in the socket but not yet sent. */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /** Starts a closing handshake; `close` fires when it completes (or with `forceAfterMs`, at the latest then). */
  close(code: number, reason: string, forceAfterMs = 2_000): void {
    if (this.finished) return;
    try {
      this.socket.close(code, reason);
    } catch {
      this.abort(code, reason);
      return;
    }
    this.forceTimer = setTimeout(() => this.abort(code, reason), forceAfterMs);
  }

  /** Drops the connection now: the `close` callback fires synchronously with `code`. */
  abort(code: number = WS_CLOSE_ABNORMAL, reason = ''): void {
    if (this.finished) return;
    const socket = this.socket as WebSocket & { terminate?: () => void };
    try {
      if (typeof socket.terminate === 'function') socket.terminate();
      else if (socket.readyState === 0 || socket.readyState === 1) {
        // Browsers accept only 1000 and 3000–4999 from scripts.
        socket.close(code === WS_CLOSE_NORMAL || (code >= 3000 && code <= 4999) ? code : CLOSE_CODES.HEARTBEAT_TIMEOUT.code, reason.slice(0, 100));
      }
    } catch {
      // Already closing: nothing more to do.
    }
    this.finish(code, reason);
  }

  private finish(code: number, reason: string): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.forceTimer);
    this.socket.onopen = null;
    this.socket.onmessage = null;
    this.socket.onclose = null;
    this.handlers.close({ code, reason, opened: this.opened });
  }
}
