/**
 * Data channel presets and validation of the `channels` parameter.
 *
 * Skapi's presets are kept as they were (label = protocol = preset name), except
 * that the default channel `default` is reliable and ordered (Skapi used
 * `maxPacketLifeTime: 10`, which silently drops chat messages).
 */
import { CONTROL_ID, CONTROL_LABEL, SwitchboardError, isJsonObject } from '@switchboard/protocol';
import type { ChannelParam, ChannelPreset } from '../types.js';

/** The hidden, negotiated control channel that carries hang-ups and pings (see control.ts); its label and id are the protocol's. */
export { CONTROL_ID, CONTROL_LABEL };

export interface ChannelSpec {
  label: string;
  init: RTCDataChannelInit;
}

export const CHANNEL_PRESETS: Readonly<Record<ChannelPreset, RTCDataChannelInit>> = {
  'text-chat': { ordered: true, maxRetransmits: 10, protocol: 'text-chat' },
  'file-transfer': { ordered: false, maxPacketLifeTime: 3000, protocol: 'file-transfer' },
  'video-chat': { ordered: true, maxRetransmits: 10, protocol: 'video-chat' },
  'voice-chat': { ordered: true, maxRetransmits: 10, protocol: 'voice-chat' },
  gaming: { ordered: false, maxPacketLifeTime: 100, protocol: 'gaming' },
};

export const DEFAULT_CHANNEL: ChannelSpec = { label: 'default', init: { ordered: true, protocol: 'default' } };

const PRESET_NAMES = Object.keys(CHANNEL_PRESETS) as ChannelPreset[];
const ALLOWED_KEYS = new Set(['ordered', 'maxPacketLifeTime', 'maxRetransmits', 'protocol', 'label', 'negotiated', 'id']);

function bad(message: string): SwitchboardError {
  return SwitchboardError.invalidParameter(message);
}

function isPreset(value: string): value is ChannelPreset {
  return (PRESET_NAMES as string[]).includes(value);
}

function u16(value: unknown, key: string, index: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw bad(`"channels[${index}].${key}" should be an integer between 0 and 65535.`);
  }
  return value;
}

function objectSpec(item: Record<string, unknown>, index: number): ChannelSpec {
  for (const key of Object.keys(item)) {
    if (!ALLOWED_KEYS.has(key)) throw bad(`"channels[${index}]" has an unknown key "${key}".`);
  }
  const { ordered, protocol, label, negotiated } = item;
  if (ordered !== undefined && typeof ordered !== 'boolean') throw bad(`"channels[${index}].ordered" should be type: <boolean>.`);
  if (negotiated !== undefined && typeof negotiated !== 'boolean') throw bad(`"channels[${index}].negotiated" should be type: <boolean>.`);
  for (const [key, value] of [
    ['protocol', protocol],
    ['label', label],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value.length > 65535)) {
      throw bad(`"channels[${index}].${key}" should be type: <string>.`);
    }
  }
  const maxPacketLifeTime = u16(item.maxPacketLifeTime, 'maxPacketLifeTime', index);
  const maxRetransmits = u16(item.maxRetransmits, 'maxRetransmits', index);
  const id = u16(item.id, 'id', index);
  if (maxPacketLifeTime !== undefined && maxRetransmits !== undefined) {
    throw bad(`"channels[${index}]" may set "maxPacketLifeTime" or "maxRetransmits", not both.`);
  }
  if (negotiated === true && id === undefined) throw bad(`"channels[${index}]" is negotiated and needs an "id".`);
  if (id === CONTROL_ID && negotiated === true) throw bad(`"channels[${index}].id" ${CONTROL_ID} is reserved by Switchboard.`);
  const name = (label as string | undefined) ?? (protocol as string | undefined) ?? 'default';
  const init: RTCDataChannelInit = { ordered: (ordered as boolean | undefined) ?? true, protocol: (protocol as string | undefined) ?? name };
  if (maxPacketLifeTime !== undefined) init.maxPacketLifeTime = maxPacketLifeTime;
  if (maxRetransmits !== undefined) init.maxRetransmits = maxRetransmits;
  if (negotiated !== undefined) init.negotiated = negotiated as boolean;
  if (id !== undefined) init.id = id;
  return { label: name, init };
}

/**
 * `channels` may be omitted (the reliable `default` channel), a preset name, or an
 * array of presets and RTCDataChannelInit objects (`[]` means no app channels).
 * Invalid items throw INVALID_PARAMETER; duplicate labels INVALID_REQUEST (Skapi's text).
 */
export function normalizeChannels(param: unknown, fallback: ChannelSpec[] = [DEFAULT_CHANNEL]): ChannelSpec[] {
  if (param === undefined || param === null) return fallback.map((spec) => ({ label: spec.label, init: { ...spec.init } }));
  const items: unknown[] = typeof param === 'string' ? [param] : Array.isArray(param) ? param : [];
  if (typeof param !== 'string' && !Array.isArray(param)) {
    throw bad(`"channels" should be a preset name (${PRESET_NAMES.join(', ')}) or an array of presets and RTCDataChannelInit objects.`);
  }
  const specs = items.map((item, index): ChannelSpec => {
    if (typeof item === 'string') {
      if (!isPreset(item)) throw bad(`"channels[${index}]" "${item}" is not a preset (${PRESET_NAMES.join(', ')}).`);
      return { label: item, init: { ...CHANNEL_PRESETS[item] } };
    }
    if (isJsonObject(item)) return objectSpec(item, index);
    throw bad(`"channels[${index}]" should be a preset name or an RTCDataChannelInit object.`);
  });
  const seen = new Set<string>();
  for (const spec of specs) {
    if (spec.label === CONTROL_LABEL) throw bad(`The data channel label "${CONTROL_LABEL}" is reserved by Switchboard.`);
    if (seen.has(spec.label)) {
      throw SwitchboardError.invalidRequest(`Data channel with the protocol "${spec.label}" already exists.`);
    }
    seen.add(spec.label);
  }
  return specs;
}

export type { ChannelParam };
