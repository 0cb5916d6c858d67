import type { Platform } from '../types.js';

interface BrowserGlobals {
  WebSocket?: Platform['WebSocket'];
  fetch?: typeof fetch;
  RTCPeerConnection?: Platform['RTCPeerConnection'];
  navigator?: { mediaDevices?: { getUserMedia?: (constraints: MediaStreamConstraints) => Promise<MediaStream> } };
  isSecureContext?: boolean;
  location?: { protocol: string; hostname: string };
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** `isSecureContext`, counting http://localhost and http://127.0.0.1 as secure (as the spec does). */
export function isSecure(globals: BrowserGlobals): boolean {
  if (globals.isSecureContext === true) return true;
  const location = globals.location;
  if (!location) return false;
  if (location.protocol === 'https:') return true;
  return location.protocol === 'http:' && (LOOPBACK_HOSTS.has(location.hostname) || location.hostname.endsWith('.localhost'));
}

/** The platform from the page's globals (read when the Switchboard is created). */
export function browserPlatform(): Platform {
  const globals = globalThis as unknown as BrowserGlobals;
  const mediaDevices = globals.navigator?.mediaDevices;
  return {
    WebSocket: globals.WebSocket as Platform['WebSocket'],
    fetch: (input, init) => {
      if (!globals.fetch) return Promise.reject(new TypeError('fetch is not available.'));
      return globals.fetch.call(globalThis, input, init);
    },
    RTCPeerConnection: globals.RTCPeerConnection,
    getUserMedia: mediaDevices?.getUserMedia ? (constraints) => mediaDevices.getUserMedia!(constraints) : undefined,
    isSecureContext: () => isSecure(globals),
    kind: 'browser',
  };
}
