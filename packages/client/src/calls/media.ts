/**
 * Media for one call. Constraints go to platform.getUserMedia and the SDK owns the
 * tracks it opened (stopped when that call ends); an app-supplied MediaStream is used
 * as given (never cloned, never stopped by the SDK).
 */
import { SwitchboardError } from '@switchboard/protocol';
import type { MediaParam, Platform } from '../types.js';

export type MediaPlan =
  | { kind: 'none'; kinds: { audio: boolean; video: boolean } | null }
  | { kind: 'stream'; stream: MediaStream }
  | { kind: 'capture'; constraints: MediaStreamConstraints };

export interface LocalMedia {
  stream: MediaStream | null;
  /** Tracks the SDK opened for this call (the only ones it stops). */
  owned: MediaStreamTrack[];
  kinds: { audio: boolean; video: boolean } | null;
}

function isStream(value: unknown): value is MediaStream {
  return typeof value === 'object' && value !== null && typeof (value as MediaStream).getTracks === 'function';
}

/** Validates `media` synchronously (before anything is sent or opened). */
export function planMedia(param: MediaParam | undefined | null, platform: Platform): MediaPlan {
  if (param === undefined || param === null) return { kind: 'none', kinds: null };
  if (isStream(param)) {
    // The Node platform (node-datachannel) carries data channels only: refuse tracks now, not when the peer connection is made.
    if (platform.kind === 'node' && !platform.getUserMedia && param.getTracks().length > 0) throw nodeMediaError();
    return { kind: 'stream', stream: param };
  }
  if (typeof param !== 'object' || Array.isArray(param)) {
    throw SwitchboardError.invalidParameter('"media" should be a MediaStream or MediaStreamConstraints ({ audio, video }).');
  }
  const constraints = param as MediaStreamConstraints;
  if (!constraints.audio && !constraints.video) return { kind: 'none', kinds: { audio: false, video: false } };
  if (!platform.isSecureContext()) {
    throw SwitchboardError.invalidRequest('Media stream is only supported on either localhost or https.');
  }
  if (platform.kind === 'node' && !platform.getUserMedia) throw nodeMediaError();
  if (!platform.getUserMedia) {
    throw new SwitchboardError(
      'NOT_SUPPORTED',
      `Media capture (getUserMedia) is not available in this environment (${platform.kind}). ` +
        'Omit "media" for a data-only call (data channels work), or pass a MediaStream you made yourself.',
    );
  }
  return { kind: 'capture', constraints: { audio: constraints.audio ?? false, video: constraints.video ?? false } };
}

function nodeMediaError(): SwitchboardError {
  return new SwitchboardError(
    'NOT_SUPPORTED',
    'Media (audio and video) is not supported in Node: node-datachannel carries data channels only. Omit "media" for a data-only call (data channels work).',
  );
}

/** What the invite announces before any media is open: the stream's tracks, or what is asked of the devices. */
export function plannedKinds(plan: MediaPlan): { audio: boolean; video: boolean } | null {
  if (plan.kind === 'none') return plan.kinds;
  if (plan.kind === 'stream') return kindsOf(plan.stream);
  return { audio: !!plan.constraints.audio, video: !!plan.constraints.video };
}

export async function openMedia(plan: MediaPlan, platform: Platform): Promise<LocalMedia> {
  switch (plan.kind) {
    case 'none':
      return { stream: null, owned: [], kinds: plan.kinds };
    case 'stream':
      return { stream: plan.stream, owned: [], kinds: kindsOf(plan.stream) };
    case 'capture': {
      const stream = await platform.getUserMedia!(plan.constraints);
      return { stream, owned: stream.getTracks(), kinds: kindsOf(stream) };
    }
  }
}

export function releaseMedia(media: LocalMedia | null): void {
  if (!media) return;
  for (const track of media.owned) track.stop();
  media.owned = [];
}

function kindsOf(stream: MediaStream): { audio: boolean; video: boolean } {
  const tracks = stream.getTracks();
  return { audio: tracks.some((t) => t.kind === 'audio'), video: tracks.some((t) => t.kind === 'video') };
}
