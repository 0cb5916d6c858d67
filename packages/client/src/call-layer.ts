import type { CallHost, CallLayer } from './types.js';

/**
 * ─── CALLS HOOK ─────────────────────────────────────────────────────────────
 * The one place the realtime layer creates the call layer (src/calls/**, owned
 * by the calls engineer). Once `createCallLayer` exists in ./calls/index.ts this
 * function becomes:
 *
 *   import { createCallLayer } from './calls/index.js';
 *   export function createCalls(host: CallHost): CallLayer | null {
 *     return createCallLayer(host);
 *   }
 *
 * Until then there is no call layer: connectRTC rejects with NOT_SUPPORTED and
 * inbound `rtc` frames are ignored.
 * ────────────────────────────────────────────────────────────────────────────
 */
export function createCalls(host: CallHost): CallLayer | null {
  void host;
  return null;
}
