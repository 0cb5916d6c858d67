import { CLOSE_CODES, type ServerMessage, type ServerMessageOf, type SwitchboardError } from '@switchboard/protocol';
import type { BackoffPolicy } from '../transport/backoff.js';
import type { Endpoints } from '../transport/url.js';
import type { Platform } from '../types.js';
import type { TokenSource } from './auth.js';

/** Close code of a socket dropped because the page went into the back/forward cache (resumed on `pageshow`). */
export const PAGE_HIDDEN_CLOSE = CLOSE_CODES.PAGE_HIDDEN.code;

export type SessionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';
export type Welcome = ServerMessageOf<'welcome'>;
/** Frames the session does not consume itself. */
export type PushFrame = Extract<ServerMessage, { type: 'message' | 'private' | 'notice' | 'rtc' | 'ice' | 'error' }>;

export interface SessionEvents extends Record<string, unknown> {
  state: { state: SessionState; previous: SessionState };
  /**
   * The server welcomed a connection (before the re-sync and the queued requests). `resumed`: the
   * same cid was re-attached (no re-sync follows); else `reason` says why a resume was refused.
   */
  welcome: { welcome: Welcome; reconnect: boolean; resumed: boolean; reason?: string; previousCid: string | null };
  push: PushFrame;
  /** A socket failed before it was welcomed; another attempt follows. */
  connectionError: { error: SwitchboardError | null };
  /** A welcomed connection closed without being asked to; `resume`: the next attempt tries to resume it. */
  unexpectedClose: { code: number; reason: string; resume: boolean };
  reconnecting: { attempt: number; delayMs: number };
  gaveUp: { attempts: number };
  /** The session stopped for good: refused credentials or a terminal close code. */
  fatal: { error: SwitchboardError; closeCode: number | undefined };
  /** closed after `close()`. */
  closed: { code: number; reason: string };
}

export interface SessionOptions {
  platform: Platform;
  endpoints: Endpoints;
  tokens: TokenSource;
  backoff: BackoffPolicy;
  requestTimeoutMs: number;
  /** Runs after every welcome, before queued requests go out (re-joins the group). */
  resync: (reconnect: boolean) => Promise<void>;
}
