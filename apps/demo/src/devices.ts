/**
 * Cameras, microphones and speakers: the remembered choice (device ids and whether to start
 * with the camera or microphone off), the lists for the pickers, and constraints that ask for
 * the chosen device. Shared by the pre-join check and the in-call device menu.
 */

export type DeviceKind = 'camera' | 'microphone' | 'speaker';

export interface DevicePrefs {
  camera: string | null;
  microphone: string | null;
  speaker: string | null;
  camOn: boolean;
  micOn: boolean;
}

const KEY = 'switchboard-demo:devices';
const MEDIA_KIND: Record<DeviceKind, MediaDeviceKind> = { camera: 'videoinput', microphone: 'audioinput', speaker: 'audiooutput' };

export const VIDEO: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
export const AUDIO: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

export function loadPrefs(): DevicePrefs {
  const prefs: DevicePrefs = { camera: null, microphone: null, speaker: null, camOn: true, micOn: true };
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Record<keyof DevicePrefs, unknown>>;
    for (const kind of ['camera', 'microphone', 'speaker'] as const) {
      if (typeof saved[kind] === 'string') prefs[kind] = saved[kind] as string;
    }
    if (saved.camOn === false) prefs.camOn = false;
    if (saved.micOn === false) prefs.micOn = false;
  } catch {
    // nothing usable saved
  }
  return prefs;
}

export function savePrefs(change: Partial<DevicePrefs>): DevicePrefs {
  const prefs = { ...loadPrefs(), ...change };
  try {
    localStorage.setItem(KEY, JSON.stringify(prefs));
  } catch {
    // private mode: the choice lasts for this page only
  }
  return prefs;
}

/** The devices of one kind (labels need a granted permission; before that they are blank). */
export async function listDevices(kind: DeviceKind): Promise<MediaDeviceInfo[]> {
  try {
    const all = await navigator.mediaDevices.enumerateDevices();
    return all.filter((d) => d.kind === MEDIA_KIND[kind] && d.deviceId !== '' && d.deviceId !== 'communications');
  } catch {
    return [];
  }
}

/** Whether this browser lets a page pick where audio plays (`setSinkId`). */
export const canPickSpeaker = (): boolean => typeof (HTMLMediaElement.prototype as { setSinkId?: unknown }).setSinkId === 'function';

/**
 * Constraints for `kind` on `deviceId`. Always `exact`: Chromium ranks an `ideal` deviceId below
 * the other ideals and hands out the first camera anyway. A remembered device that is gone is
 * handled by `openDevices`, which then asks for any device of the kind.
 */
export function constraintsFor(kind: 'camera' | 'microphone', deviceId: string | null): MediaTrackConstraints {
  const base = kind === 'camera' ? VIDEO : AUDIO;
  return deviceId ? { ...base, deviceId: { exact: deviceId } } : base;
}

/** getUserMedia on the chosen devices (`false`: not this kind); if a chosen one is gone, any device of its kind. */
export async function openDevices(camera: string | null | false, microphone: string | null | false): Promise<MediaStream> {
  const ask = (exact: boolean): Promise<MediaStream> =>
    navigator.mediaDevices.getUserMedia({
      video: camera === false ? false : constraintsFor('camera', exact ? camera : null),
      audio: microphone === false ? false : constraintsFor('microphone', exact ? microphone : null),
    });
  try {
    return await ask(true);
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if ((name !== 'OverconstrainedError' && name !== 'NotFoundError') || (!camera && !microphone)) throw error;
    return ask(false);
  }
}

/** The id of the device a live track comes from. */
export function deviceOf(track: MediaStreamTrack | undefined): string | null {
  return track?.getSettings().deviceId ?? null;
}

/** Fills a <select> with the devices of a kind, selecting `selected` (or the first). */
export function fillPicker(select: HTMLSelectElement, devices: MediaDeviceInfo[], selected: string | null, noun: string): void {
  const options = devices.map((d, i) => {
    const option = document.createElement('option');
    option.value = d.deviceId;
    option.textContent = d.label || `${noun} ${i + 1}`;
    return option;
  });
  if (options.length === 0) {
    const none = document.createElement('option');
    none.value = '';
    none.textContent = `No ${noun.toLowerCase()} found`;
    options.push(none);
  }
  select.replaceChildren(...options);
  select.disabled = devices.length === 0;
  select.value = selected && devices.some((d) => d.deviceId === selected) ? selected : (devices[0]?.deviceId ?? '');
}

/** Plays remote audio on the chosen speaker where the browser allows it. */
export async function routeAudio(media: HTMLMediaElement, speaker: string | null): Promise<void> {
  const sinkable = media as HTMLMediaElement & { setSinkId?: (id: string) => Promise<void> };
  if (!sinkable.setSinkId) return;
  try {
    await sinkable.setSinkId(speaker ?? '');
  } catch {
    // the speaker is gone: the default one plays
  }
}
