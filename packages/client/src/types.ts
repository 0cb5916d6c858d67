/**
 * The public surface of the SDK: Skapi's Realtime/WebRTC names, events and
 * fields (see docs/api.md). Shared by the realtime and calls layers.
 */
import type { IceServer, NoticeCode, RtcSignal, ServerMessageOf, SwitchboardError, UserInfo } from '@switchboard/protocol';
import type { RTCEvent } from './rtc-events.js';

export type * from './rtc-events.js';

export type TokenProvider = string | (() => string | Promise<string>);

export interface SwitchboardOptions {
  /** Server base URL: `https://host:8443` (or `http://`, `wss://`, `ws://`). */
  url: string;
  /** A JWT, or a function returning one (called on every (re)connect, so it can refresh). */
  token?: TokenProvider;
  /** Guest display name: used when no token is given and the server allows guests. */
  name?: string;
  /** Reconnect policy. `maxAttempts: Infinity` (default) never gives up. */
  reconnect?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number } | false;
  /** How long to wait for a server ack before rejecting with TIMEOUT (default 10 000 ms). */
  requestTimeoutMs?: number;
  /** Calls: ring timeout before RTC_TIMEOUT (default 30 000 ms). */
  ringTimeoutMs?: number;
  /** Calls: how long `disconnected` may last before an ICE restart (default 3 000 ms). */
  iceDisconnectGraceMs?: number;
  /** Calls: ICE restarts tried before the call ends with RTC_ICE_FAILED (default 3). */
  maxIceRestarts?: number;
  /** Calls: how long one connection attempt (the first, or an ICE restart) may take before it counts as failed (default 10 000 ms). */
  iceRestartTimeoutMs?: number;
  /** Replace parts of the platform the entry point chose (e.g. a custom WebSocket or fetch). */
  platform?: Partial<Platform>;
}

/** What the SDK needs from its environment; the Node entry fills it with ws and node-datachannel. */
export interface Platform {
  WebSocket: new (url: string, protocols?: string | string[]) => WebSocket;
  fetch: typeof fetch;
  RTCPeerConnection: (new (config?: RTCConfiguration) => RTCPeerConnection) | undefined;
  getUserMedia: ((constraints: MediaStreamConstraints) => Promise<MediaStream>) | undefined;
  /** true in browsers on https, http://localhost and http://127.0.0.1; always true in Node. */
  isSecureContext: () => boolean;
  /** A name for errors such as NOT_SUPPORTED: 'browser' or 'node'. */
  kind: 'browser' | 'node';
  /**
   * Where the platform can see it (Node's `ws`), the HTTP answer to a failed upgrade.
   * Browsers cannot, so the SDK asks `GET /v1/session` instead.
   */
  upgradeFailure?: (socket: WebSocket) => { status: number; body: string } | undefined;
  /** false where the WebRTC stack cannot restart ICE in place (libdatachannel): calls renew the peer connection instead. */
  canRestartIce?: boolean;
  /** false where the stack never reports `disconnected` (libdatachannel): calls watch a control-channel heartbeat instead. */
  reportsIceDisconnect?: boolean;
}

// ---------------------------------------------------------------- realtime events

interface SenderFields {
  sender: string | null;
  sender_cid: string | null;
  sender_rid: string | null;
  code: NoticeCode | null;
}

export type RealtimeEvent =
  | { type: 'success'; message: string }
  | { type: 'close'; message: string }
  | { type: 'reconnect'; message: string; attempt: number; delayMs: number }
  | ReconnectedEvent
  | ({ type: 'error'; message: string; error?: SwitchboardError; closeCode?: number } & Partial<SenderFields>)
  | ({ type: 'message'; message: unknown } & SenderFields)
  | ({ type: 'private'; message: unknown } & SenderFields)
  | ({ type: 'notice'; message: string } & SenderFields)
  | RtcIncomingEvent
  | ({
      type: 'rtc:closed';
      /** `hungup`: user_id of the side that ended the call. `error`: why, when it ended abnormally (peer_gone, ice_failed, error). */
      message: { hungup: string | null; reason: RtcEndReason; call: string; error?: SwitchboardError };
    } & SenderFields);

export type RealtimeCallback = (event: RealtimeEvent) => void;

/**
 * After a reconnect, before its `success`: whether the connection was resumed (same `cid`, group
 * and calls; every message sent to it meanwhile delivered; requests in flight answered once) or
 * is a new one (new `cid`, group re-joined, requests in flight failed with CONNECTION_CLOSED).
 * New in Switchboard; it has no `attempt` (the `reconnect` events before an attempt have one).
 */
export interface ReconnectedEvent {
  type: 'reconnect';
  message: string;
  resumed: boolean;
  /** Why not resumed (docs/protocol.md §12: `expired`, `epoch_changed`, …; newer servers may add reasons). Absent when no resume was tried. */
  reason?: string;
  cid: string;
  previousCid: string;
}

export interface RtcIncomingEvent extends SenderFields {
  type: 'rtc:incoming';
  /** The call id (new in Switchboard). */
  call: string;
  /** The caller's display name, when the token carried one. */
  sender_name: string | null;
  /** What the caller offers, as announced in its invite. */
  media: { audio: boolean; video: boolean } | null;
  /** Accept. Resolves `null` if the call is no longer ringing (cancelled or already answered). */
  connectRTC(params: RTCReceiverParams | undefined, cb: RTCCallback): Promise<RTCResolved | null>;
  /** Decline (reason 'busy', or `{ reason: 'busy' }`: the caller gets RTC_BUSY) or, after accepting, hang up. */
  hangup(reason?: DeclineReason | { reason?: DeclineReason }): void;
}

export type DeclineReason = 'rejected' | 'busy';

/** Why a call ended, as reported in `rtc:closed`. */
export type RtcEndReason =
  | 'hangup'
  | 'rejected'
  | 'busy'
  | 'cancelled'
  | 'timeout'
  | 'peer_gone'
  | 'ice_failed'
  | 'error'
  | 'closed'
  /** A call to this user was taken (or declined) on another of their connections. */
  | 'answered_elsewhere'
  | 'declined_elsewhere';

// ---------------------------------------------------------------- calls

export type IceParam = string | string[] | RTCIceServer[];
export type ChannelPreset = 'text-chat' | 'file-transfer' | 'video-chat' | 'voice-chat' | 'gaming';
export type ChannelParam = ChannelPreset | (RTCDataChannelInit & { protocol?: string; label?: string });
export type MediaParam = MediaStream | MediaStreamConstraints | { audio?: boolean; video?: boolean };

export interface RTCConnectorParams {
  /** The connection to call (`cid:…`). Give `user_id` instead to ring every connection of a user. */
  cid?: string;
  /**
   * Rings every open connection of this user (and each one that opens while it rings; with none open,
   * a push to the user's subscriptions); the first to accept takes the call (docs/api.md, "Ringing a user").
   */
  user_id?: string;
  ice?: IceParam;
  iceTransportPolicy?: RTCIceTransportPolicy;
  media?: MediaParam;
  channels?: ChannelParam[] | ChannelPreset;
}

export interface RTCReceiverParams {
  ice?: IceParam;
  iceTransportPolicy?: RTCIceTransportPolicy;
  media?: MediaParam;
  channels?: ChannelParam[] | ChannelPreset;
}

export interface RTCResolved {
  target: RTCPeerConnection;
  channels: Record<string, RTCDataChannel>;
  hangup: () => void;
  media: MediaStream | null;
  /** The call id (new in Switchboard). */
  call: string;
}

export interface RTCConnector {
  hangup: () => void;
  /** Resolves when the callee accepts; rejects with RTC_REJECTED / RTC_BUSY / RTC_CANCELLED / RTC_TIMEOUT / RTC_PEER_GONE / RTC_ICE_FAILED. */
  connection: Promise<RTCResolved>;
  call: string;
}

// ---------------------------------------------------------------- RTC callback events (rtc-events.ts)

export type RTCCallback = (event: RTCEvent) => void;

// ---------------------------------------------------------------- realtime ↔ calls contract

/** What the call layer needs from the realtime session. Implemented by the Switchboard class. */
export interface CallHost {
  /** Sends an rtc frame with an id; resolves when the server acked, rejects with a SwitchboardError
   * (RECIPIENT_NOT_FOUND, FORBIDDEN, CONNECTION_CLOSED, TIMEOUT, …). */
  sendSignal(to: string, call: string, signal: RtcSignal): Promise<void>;
  /** Delivers an event to the app's realtime callback. */
  emitRealtime(event: RealtimeEvent): void;
  /** Our own identity, once welcomed. */
  self(): { cid: string; user: UserInfo } | null;
  /** ICE servers from the welcome (refreshed before TURN credentials expire). */
  iceServers(): IceServer[];
  platform: Platform;
  options: Required<Pick<SwitchboardOptions, 'ringTimeoutMs' | 'iceDisconnectGraceMs' | 'maxIceRestarts'>> & Pick<SwitchboardOptions, 'iceRestartTimeoutMs'>;
}

/** The call layer, as the Switchboard class drives it. */
export interface CallLayer {
  handleSignal(frame: ServerMessageOf<'rtc'>): void;
  connectRTC(params: RTCConnectorParams, cb: RTCCallback): Promise<RTCConnector>;
  closeRTC(params: { cid?: string; close_all?: boolean }): Promise<void>;
  /**
   * The realtime connection opened (again) or closed; calls decide whether they survive. `away`:
   * it dropped and is being resumed: calls wait (their signals queue) for `open` or `closed`.
   */
  handleRealtimeState(state: 'open' | 'closed' | 'away'): void;
  /** The page is being unloaded: every call tells its peer now, on both paths. */
  leavePage(): void;
}
