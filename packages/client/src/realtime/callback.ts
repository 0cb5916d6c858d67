import { SwitchboardError } from '@switchboard/protocol';

/**
 * Calls an app callback. Skapi's guide writes its callbacks `async` and awaits
 * `call.connection` inside them: when the call is rejected, cancelled or ends, that
 * promise rejects, and so does the callback's own promise, which nobody awaits. Such an
 * end is also reported by `rtc:closed` and `connectionstatechange`, so it is dropped here
 * rather than crashing a Node process or showing as an uncaught error in a browser.
 * Anything else a callback throws or rejects with is logged, never rethrown into the SDK.
 */
export function invokeCallback<E>(callback: (event: E) => unknown, event: E, kind: 'realtime' | 'RTC'): void {
  try {
    const result = callback(event);
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      (result as PromiseLike<unknown>).then(undefined, (error: unknown) => report(error, kind));
    }
  } catch (error) {
    report(error, kind);
  }
}

function report(error: unknown, kind: string): void {
  if (error instanceof SwitchboardError && isCallEnd(error.code)) return;
  console.error(`Switchboard: the ${kind} callback failed`, error);
}

function isCallEnd(code: string): boolean {
  return code.startsWith('RTC_') || code === 'TOO_MANY_CALLS' || code === 'CONNECTION_CLOSED';
}
