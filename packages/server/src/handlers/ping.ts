import { buildFrame } from '../state/delivery.js';
import { NO_REPLY, type Handler } from './types.js';

/** Application heartbeat: answers `pong` with the same `ts`. */
export const ping: Handler<'ping'> = async (_ctx, session, msg) => {
  session.send(buildFrame(msg.ts === undefined ? { type: 'pong' } : { type: 'pong', ts: msg.ts }));
  return NO_REPLY;
};
