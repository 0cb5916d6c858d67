import { createCallLayer } from './calls/index.js';
import type { CallHost, CallLayer } from './types.js';

/**
 * ─── CALLS HOOK ─────────────────────────────────────────────────────────────
 * The one place the realtime layer creates the call layer (src/calls/**, owned
 * by the calls engineer).
 * ────────────────────────────────────────────────────────────────────────────
 */
export function createCalls(host: CallHost): CallLayer | null {
  return createCallLayer(host);
}
