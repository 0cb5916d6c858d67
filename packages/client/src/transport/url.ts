import { REALTIME_PATH } from '@switchboard/protocol';

/** The HTTP(S) base for REST calls and the WS(S) URL of the realtime endpoint, from `options.url`. */
export interface Endpoints {
  /** `https://host[:port][/prefix]` without a trailing slash. */
  http: string;
  /** `wss://host[:port][/prefix]/v1/realtime`. */
  realtime: string;
}

export function endpoints(url: string): Endpoints {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`Invalid Switchboard url "${url}": expected https://host[:port], http://…, wss://… or ws://…`);
  }
  const scheme = parsed.protocol;
  let httpScheme: string;
  let wsScheme: string;
  if (scheme === 'https:' || scheme === 'wss:') [httpScheme, wsScheme] = ['https:', 'wss:'];
  else if (scheme === 'http:' || scheme === 'ws:') [httpScheme, wsScheme] = ['http:', 'ws:'];
  else throw new TypeError(`Invalid Switchboard url "${url}": the scheme must be https, http, wss or ws.`);
  let path = parsed.pathname.replace(/\/+$/, '');
  if (path.endsWith(REALTIME_PATH)) path = path.slice(0, -REALTIME_PATH.length);
  const base = `${parsed.host}${path}`;
  return { http: `${httpScheme}//${base}`, realtime: `${wsScheme}//${base}${REALTIME_PATH}` };
}
