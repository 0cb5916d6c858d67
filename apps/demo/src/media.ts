/**
 * Getting the camera and microphone for a call, with plain-words explanations
 * and a way forward when they are blocked or missing: microphone only, or
 * receive-only (no local media at all).
 */
import { loadPrefs, openDevices } from './devices.js';
import { $ } from './dom.js';

export type MediaMode = 'camera' | 'microphone' | 'none';
export interface LocalMedia {
  stream: MediaStream | null;
  mode: MediaMode;
}

type Problem = 'unsupported' | 'denied' | 'missing' | 'in-use' | 'other';
type Choice = 'retry' | 'audio' | 'none' | 'cancel';

function classify(error: unknown): Problem {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return 'denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return 'missing';
  if (name === 'NotReadableError' || name === 'AbortError' || name === 'TrackStartError') return 'in-use';
  return 'other';
}

async function deviceKinds(): Promise<{ camera: boolean; microphone: boolean }> {
  try {
    const devices = await navigator.mediaDevices.enumerateDevices();
    return { camera: devices.some((d) => d.kind === 'videoinput'), microphone: devices.some((d) => d.kind === 'audioinput') };
  } catch {
    return { camera: true, microphone: true };
  }
}

function explain(
  problem: Problem,
  wanted: 'camera' | 'microphone',
  devices: { camera: boolean; microphone: boolean },
  detail: string,
): { title: string; text: string } {
  const what = wanted === 'camera' ? 'camera and microphone' : 'microphone';
  switch (problem) {
    case 'unsupported':
      return {
        title: 'Camera and microphone are not available here',
        text: window.isSecureContext
          ? 'This browser does not give web pages access to a camera or microphone.'
          : 'Browsers only allow the camera and microphone on secure pages (https:// or localhost). Open the https:// link instead.',
      };
    case 'denied':
      return {
        title: `Your ${what} ${wanted === 'camera' ? 'are' : 'is'} blocked`,
        text: 'Allow access in your browser’s site settings (the icon next to the address), then try again. Or continue without them: you will still see and hear the other person.',
      };
    case 'missing':
      if (!devices.camera && devices.microphone) {
        return { title: 'No camera found', text: 'You can join with your microphone only, or without camera and microphone.' };
      }
      if (!devices.microphone && !devices.camera) {
        return {
          title: 'No camera or microphone found',
          text: 'Plug one in and try again, or continue without: you will still see and hear the other person.',
        };
      }
      return { title: `Your ${what} could not be found`, text: 'Check that it is plugged in and try again, or continue with less.' };
    case 'in-use':
      return {
        title: `Your ${what} ${wanted === 'camera' ? 'are' : 'is'} busy`,
        text: 'Another app or tab may be using it. Close it and try again, or continue without.',
      };
    default:
      return { title: `Could not start your ${what}`, text: detail || 'Something went wrong while starting your devices.' };
  }
}

function ask(title: string, text: string, options: { retry: boolean; audio: boolean }, signal: AbortSignal | undefined): Promise<Choice> {
  const dialog = $<HTMLDialogElement>('media-problem');
  $('media-title').textContent = title;
  $('media-desc').textContent = text;
  $('media-retry').hidden = !options.retry;
  $('media-audio').hidden = !options.audio;
  return new Promise<Choice>((resolve) => {
    const buttons: [string, Choice][] = [
      ['media-retry', 'retry'],
      ['media-audio', 'audio'],
      ['media-none', 'none'],
      ['media-cancel', 'cancel'],
    ];
    const cleanups: (() => void)[] = [];
    const finish = (choice: Choice): void => {
      for (const cleanup of cleanups) cleanup();
      if (dialog.open) dialog.close();
      resolve(choice);
    };
    for (const [id, choice] of buttons) {
      const button = $(id);
      const onClick = (): void => finish(choice);
      button.addEventListener('click', onClick);
      cleanups.push(() => button.removeEventListener('click', onClick));
    }
    const onCancel = (event: Event): void => {
      event.preventDefault();
      finish('cancel');
    };
    dialog.addEventListener('cancel', onCancel);
    cleanups.push(() => dialog.removeEventListener('cancel', onCancel));
    const onAbort = (): void => finish('cancel');
    signal?.addEventListener('abort', onAbort);
    cleanups.push(() => signal?.removeEventListener('abort', onAbort));
    dialog.showModal();
    const first = [...dialog.querySelectorAll<HTMLButtonElement>('button')].find((b) => !b.hidden);
    first?.focus();
  });
}

/**
 * Camera + microphone, or whatever the user settles for. Resolves null when
 * the user cancels (or `signal` aborts, e.g. the caller hung up meanwhile).
 */
export async function getLocalMedia(signal?: AbortSignal): Promise<LocalMedia | null> {
  let wanted: 'camera' | 'microphone' = 'camera';
  for (;;) {
    if (signal?.aborted) return null;
    let problem: Problem;
    let detail = '';
    if (!navigator.mediaDevices?.getUserMedia) {
      problem = 'unsupported';
    } else {
      try {
        // The devices chosen before joining (or in an earlier call), if they are still there.
        const prefs = loadPrefs();
        const stream = await openDevices(wanted === 'camera' ? prefs.camera : false, prefs.microphone);
        if (signal?.aborted) {
          for (const track of stream.getTracks()) track.stop();
          return null;
        }
        return { stream, mode: wanted };
      } catch (error) {
        problem = classify(error);
        detail = error instanceof Error ? error.message : '';
      }
    }
    const devices = problem === 'unsupported' ? { camera: false, microphone: false } : await deviceKinds();
    const { title, text } = explain(problem, wanted, devices, detail);
    const canAudio = problem !== 'unsupported' && wanted === 'camera' && devices.microphone;
    const choice = await ask(title, text, { retry: problem !== 'unsupported', audio: canAudio }, signal);
    if (choice === 'cancel') return null;
    if (choice === 'none') return { stream: null, mode: 'none' };
    if (choice === 'audio') wanted = 'microphone';
  }
}

export function stopStream(stream: MediaStream | null | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
