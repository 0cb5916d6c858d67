/**
 * "Notify me of calls": Web Push for the demo. Turning it on registers the service worker
 * (public/sw.js, at the demo's root so it controls the whole demo), subscribes with the server's
 * VAPID key (`vapidPublicKey()` + PushManager.subscribe) and hands the subscription to the server
 * (`subscribeNotification`). It also remembers who you are (the guest token this tab signed in
 * with) so a tab opened from the notification comes back as the same user: the server then rings
 * that new connection while the call still rings (docs/api.md, "Ringing a user").
 */
import { $, h } from './dom.js';
import type { Switchboard } from './sdk.js';
import { errorMessage } from './sdk.js';
import { toast } from './toast.js';

const IDENTITY_KEY = 'switchboard-demo:notify';

interface Identity {
  token: string;
  name: string;
  room: string;
}

/** The guest token this tab's SDK fetched (captured by `capturingFetch`), for the identity to remember. */
let lastGuestToken: string | null = null;

/** A fetch for the SDK's platform that notes the guest token the server hands out (POST /v1/guest). */
export function capturingFetch(): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (response.ok && url.endsWith('/v1/guest')) {
      void response
        .clone()
        .json()
        .then((body: { token?: unknown }) => {
          if (typeof body.token === 'string') lastGuestToken = body.token;
        })
        .catch(() => undefined);
    }
    return response;
  };
}

/** The identity remembered when notifications were turned on, if its token has not expired. */
export function rememberedIdentity(): Identity | null {
  try {
    const identity = JSON.parse(localStorage.getItem(IDENTITY_KEY) ?? 'null') as Identity | null;
    if (!identity?.token) return null;
    const payload = JSON.parse(atob(identity.token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
    if (payload.exp !== undefined && payload.exp * 1000 < Date.now() + 60_000) return null;
    return identity;
  } catch {
    return null;
  }
}

/** The page was opened by a click on a call or message notification. */
export function openedFromNotification(): boolean {
  return new URLSearchParams(location.search).get('from') === 'notification';
}

const supported = () => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window && window.isSecureContext;

function base64UrlToBytes(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Registers the service worker for `room` (its click opens that room). */
export function registerWorker(room: string): Promise<ServiceWorkerRegistration> {
  return navigator.serviceWorker.register(`sw.js?room=${encodeURIComponent(room)}`, { scope: './' });
}

async function turnOn(sb: Switchboard, room: string, name: string): Promise<void> {
  if ((await Notification.requestPermission()) !== 'granted') throw new Error('notifications are blocked for this site');
  const registration = await registerWorker(room);
  await navigator.serviceWorker.ready;
  const { VAPIDPublicKey } = await sb.vapidPublicKey();
  const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(VAPIDPublicKey) });
  await sb.subscribeNotification(subscription.toJSON() as Parameters<Switchboard['subscribeNotification']>[0]);
  const token = lastGuestToken ?? rememberedIdentity()?.token;
  if (token) localStorage.setItem(IDENTITY_KEY, JSON.stringify({ token, name, room } satisfies Identity));
}

async function turnOff(sb: Switchboard): Promise<void> {
  localStorage.removeItem(IDENTITY_KEY);
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = await registration?.pushManager.getSubscription();
  if (!subscription) return;
  await sb.unsubscribeNotification(subscription.toJSON() as Parameters<Switchboard['unsubscribeNotification']>[0]).catch(() => undefined);
  await subscription.unsubscribe();
}

/** The room header's toggle (before "Leave room"); hidden where Web Push is not available. */
export function showNotifyToggle(current: () => { sb: Switchboard; room: string; name: string } | null): void {
  if (!supported() || document.getElementById('notify-toggle')) return;
  const button = h('button', { id: 'notify-toggle', class: 'btn btn-ghost btn-small', type: 'button', 'aria-pressed': 'false' }, 'Notify me of calls');
  const show = (on: boolean) => {
    button.setAttribute('aria-pressed', String(on));
    button.textContent = on ? 'Notifications on' : 'Notify me of calls';
  };
  show(rememberedIdentity() !== null && Notification.permission === 'granted');
  button.addEventListener('click', () => {
    const joined = current();
    if (!joined) return;
    const on = button.getAttribute('aria-pressed') !== 'true';
    button.disabled = true;
    (on ? turnOn(joined.sb, joined.room, joined.name) : turnOff(joined.sb))
      .then(() => {
        show(on);
        toast(on ? 'You will get a notification for calls and messages while this tab is closed.' : 'Notifications off.');
      })
      .catch((error: unknown) => toast(`Could not turn notifications ${on ? 'on' : 'off'}: ${errorMessage(error)}`, 'warn'))
      .finally(() => (button.disabled = false));
  });
  $('leave').before(button);
}
