/**
 * What a call is made of, as the phases of a call see it (ringing.ts, connected.ts,
 * teardown.ts): its state and the few operations they share. `Call` (call.ts) implements it
 * and routes to the phases; the phases depend on this shape only, so imports point down.
 */
import type { ServerMessageOf, SwitchboardError } from '@switchboard/protocol';
import type { PeerSession } from '../rtc/index.js';
import type { CallHost, DeclineReason, RTCCallback, RTCEvent, RTCResolved } from '../types.js';
import type { CallConnection } from './call-connection.js';
import type { LocalMedia } from './media.js';
import type { CallPlan } from './validate.js';

export type CallState = 'ringing' | 'accepted' | 'connected' | 'reconnecting' | 'ended';
export type CallDirection = 'outgoing' | 'incoming';

/** What a call needs from its manager. */
export interface CallContext {
  host: CallHost;
  realtimeOpen(): boolean;
  ended(call: { readonly id: string }): void;
}

export interface CallData {
  readonly ctx: CallContext;
  id: string;
  direction: CallDirection;
  readonly peer: { cid: string; user_id: string | null; name: string | null };
  selfCid: string;
  readonly selfUser: string;
  state: CallState;
  media: LocalMedia | null;
  readonly warnings: string[];
  remoteLabels: string[];
  remoteMedia: { audio: boolean; video: boolean } | null;
  cb: RTCCallback | null;
  plan: CallPlan | null;
  resolved: RTCResolved | null;
  settle: { resolve: (r: RTCResolved) => void; reject: (e: SwitchboardError) => void } | null;
  ringTimer: ReturnType<typeof setTimeout> | undefined;
  invited: boolean;
  adoptWhenReady: boolean;
  peerReportedGone: boolean;
  checkingPeer: boolean;
  readonly connection: CallConnection;
  closing: Promise<void> | null;
  readonly session: PeerSession | null;
  hangup(reason?: DeclineReason | { reason?: DeclineReason } | null): void;
  learnPeer(frame: ServerMessageOf<'rtc'>): void;
  deliver(event: RTCEvent): void;
}
