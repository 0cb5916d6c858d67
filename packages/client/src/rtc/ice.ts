/** Normalisation of the `ice` and `iceTransportPolicy` parameters into an RTCConfiguration. */
import { SwitchboardError } from '@switchboard/protocol';

const ICE_URL = /^(stun|stuns|turn|turns):/i;

function bad(message: string): SwitchboardError {
  return SwitchboardError.invalidParameter(message);
}

function checkUrl(url: unknown): string {
  if (typeof url !== 'string' || !ICE_URL.test(url)) {
    throw bad(`"ice" URL ${JSON.stringify(url)} should start with stun:, stuns:, turn: or turns:.`);
  }
  return url;
}

/**
 * `ice`: one URL (Skapi), a list of URLs, or RTCIceServer[] (with TURN credentials).
 * Omitted: the server's list from the welcome frame (fresh TURN credentials).
 */
export function normalizeIce(param: unknown, fallback: RTCIceServer[]): RTCIceServer[] {
  if (param === undefined || param === null) return fallback.map((server) => ({ ...server }));
  if (typeof param === 'string') return [{ urls: checkUrl(param) }];
  if (!Array.isArray(param)) {
    throw bad('"ice" should be a URL string, an array of URL strings, or an array of RTCIceServer objects.');
  }
  if (param.every((item) => typeof item === 'string')) {
    return param.length === 0 ? [] : [{ urls: param.map(checkUrl) }];
  }
  return param.map((item, index) => {
    if (typeof item !== 'object' || item === null) throw bad(`"ice[${index}]" should be an RTCIceServer object.`);
    const { urls, username, credential } = item as Record<string, unknown>;
    const list = Array.isArray(urls) ? urls.map(checkUrl) : checkUrl(urls);
    if (username !== undefined && typeof username !== 'string') throw bad(`"ice[${index}].username" should be type: <string>.`);
    if (credential !== undefined && typeof credential !== 'string') throw bad(`"ice[${index}].credential" should be type: <string>.`);
    const server: RTCIceServer = { urls: list };
    if (username !== undefined) server.username = username as string;
    if (credential !== undefined) server.credential = credential as string;
    return server;
  });
}

export function normalizeTransportPolicy(param: unknown): RTCIceTransportPolicy | undefined {
  if (param === undefined || param === null) return undefined;
  if (param !== 'all' && param !== 'relay') throw bad('"iceTransportPolicy" should be "all" or "relay".');
  return param;
}

export function rtcConfiguration(ice: unknown, policy: unknown, fallback: RTCIceServer[]): RTCConfiguration {
  const config: RTCConfiguration = { iceServers: normalizeIce(ice, fallback), bundlePolicy: 'max-bundle' };
  const transport = normalizeTransportPolicy(policy);
  if (transport) config.iceTransportPolicy = transport;
  return config;
}
