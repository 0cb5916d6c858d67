/** The calls layer: one call state machine per call id, joined to the realtime session through CallHost. */
import type { CallHost, CallLayer } from '../types.js';
import { CallManager } from './manager.js';

export function createCallLayer(host: CallHost): CallLayer {
  return new CallManager(host);
}

export { attachCalls } from './attach.js';
export { CallManager, newCallId } from './manager.js';
export { Call, type CallState, type CallDirection } from './call.js';
