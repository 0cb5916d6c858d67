/**
 * The public surface of the Switchboard class, pinned at the type level (checked by tsc in
 * public-surface.test.ts): Skapi's names plus Switchboard's documented extras, nothing else.
 * Adding a public member, or exposing the wiring, fails this check.
 */
import { expectTypeOf } from 'vitest';
import { Switchboard } from '../../src/index.js';
import { Switchboard as NodeSwitchboard } from '../../src/node/index.js';

export type PublicMember =
  // Skapi's Realtime / WebRTC functions
  | 'connectRealtime'
  | 'closeRealtime'
  | 'joinRealtime'
  | 'postRealtime'
  | 'getRealtimeUsers'
  | 'getRealtimeGroups'
  | 'connectRTC'
  | 'closeRTC'
  // Skapi's Web Push functions
  | 'vapidPublicKey'
  | 'subscribeNotification'
  | 'unsubscribeNotification'
  // Switchboard's documented extras
  | 'user'
  | 'cid'
  | 'connectionState';

expectTypeOf<keyof Switchboard>().toEqualTypeOf<PublicMember>();
expectTypeOf<keyof NodeSwitchboard>().toEqualTypeOf<PublicMember>();
// No public statics either (a class always has `prototype`).
expectTypeOf<keyof typeof Switchboard>().toEqualTypeOf<'prototype'>();
expectTypeOf<keyof typeof NodeSwitchboard>().toEqualTypeOf<'prototype'>();
// The read-only extras cannot be assigned.
expectTypeOf<Switchboard>().toHaveProperty('cid').toEqualTypeOf<string | null>();
