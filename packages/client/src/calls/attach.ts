/**
 * Joins the call layer to the realtime session: it hears `rtc` frames and the connection's
 * state from the session itself, and sends its signals through it. Nothing of this is
 * reachable from the public Switchboard class.
 */
import type { Session } from '../session/session.js';
import type { CallHost, CallLayer } from '../types.js';
import { CallManager } from './manager.js';

export function attachCalls(session: Session, base: Pick<CallHost, 'platform' | 'options' | 'emitRealtime'>): { layer: CallLayer; host: CallHost } {
  const host: CallHost = {
    ...base,
    async sendSignal(to, call, signal) {
      await session.request({ type: 'rtc', to, call, signal });
    },
    self() {
      const connection = session.connection;
      return connection ? { cid: connection.cid, user: connection.user } : null;
    },
    iceServers: () => session.iceServers,
  };
  const layer = new CallManager(host);
  const events = session.events;
  events.on('push', (frame) => {
    if (frame.type === 'rtc') layer.handleSignal(frame);
  });
  // Calls outlive a resumed drop: they hear `away`, then `open`, or `closed` once the resume failed.
  let away = false;
  const changed = (state: 'open' | 'closed' | 'away') => {
    away = state === 'away';
    layer.handleRealtimeState(state);
  };
  events.on('state', ({ state, previous }) => {
    if (state === 'open') changed('open');
    else if (previous === 'open') changed(session.resuming ? 'away' : 'closed');
    else if (away && state === 'closed') changed('closed');
  });
  events.on('welcome', ({ reconnect, resumed }) => {
    if (away && reconnect && !resumed) changed('closed');
  });
  return { layer, host };
}
