/** Parameter checks for connectRTC / accept / closeRTC, with Skapi's codes and messages. */
import { isCid, SwitchboardError } from '@switchboard/protocol';
import { normalizeChannels, rtcConfiguration, type ChannelSpec } from '../rtc/index.js';
import type { CallHost, RTCCallback, RTCReceiverParams } from '../types.js';
import { planMedia, type MediaPlan } from './media.js';

export interface CallPlan {
  config: RTCConfiguration;
  /** The same configuration with the server's current TURN credentials (a renewal may come hours later). */
  freshConfig(): RTCConfiguration;
  channels: ChannelSpec[];
  media: MediaPlan;
}

export function checkSupported(host: CallHost): void {
  if (!host.platform.RTCPeerConnection) {
    throw new SwitchboardError('NOT_SUPPORTED', `WebRTC (RTCPeerConnection) is not available in this environment (${host.platform.kind}).`);
  }
}

export function checkCallback(cb: unknown): asserts cb is RTCCallback {
  if (typeof cb !== 'function') throw SwitchboardError.invalidParameter('Callback is required.');
}

export function checkParamsObject(params: unknown): asserts params is Record<string, unknown> {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw SwitchboardError.invalidParameter('"params" should be an object.');
  }
}

export function checkCid(cid: unknown): string {
  if (cid === undefined || cid === null) throw SwitchboardError.invalidParameter('Key "cid" is required.');
  if (typeof cid !== 'string') throw SwitchboardError.invalidParameter('"cid" should be type: <string>.');
  if (!isCid(cid)) throw SwitchboardError.invalidParameter('"cid" should be a valid connection id.');
  return cid;
}

export function checkRealtime(host: CallHost): { cid: string; user_id: string } {
  const self = host.self();
  if (!self) throw SwitchboardError.invalidRequest('No realtime connection. Execute connectRealtime() before this method.');
  return { cid: self.cid, user_id: self.user.user_id };
}

/** Everything but the cid: ice, iceTransportPolicy, channels, media (sync; opens nothing). */
export function planCall(params: RTCReceiverParams, host: CallHost, defaultChannels?: ChannelSpec[]): CallPlan {
  const channels = normalizeChannels(params.channels, defaultChannels);
  const { ice, iceTransportPolicy } = params;
  const freshConfig = (): RTCConfiguration => rtcConfiguration(ice, iceTransportPolicy, host.iceServers() as RTCIceServer[]);
  const media = planMedia(params.media, host.platform);
  return { config: freshConfig(), freshConfig, channels, media };
}
