/** What connectRTC returns for a call. */
import type { RTCConnector, RTCResolved } from '../types.js';

/**
 * `call` reads the call's id when asked (glare may switch it to the peer's call id), and a
 * rejected `connection` is for whoever awaits it: never an unhandled rejection.
 */
export function connectorFor(call: { readonly id: string; hangup(): void }, connection: Promise<RTCResolved>): RTCConnector {
  connection.catch(() => undefined);
  return {
    hangup: () => call.hangup(),
    connection,
    get call() {
      return call.id;
    },
  };
}
