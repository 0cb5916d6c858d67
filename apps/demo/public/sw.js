/**
 * The demo's service worker (served at the demo's root, so its scope is the whole demo). It shows
 * the Web Push notifications the server sends while no tab of the demo is connected: an incoming
 * call (`data.type === 'call'`: "<name> is calling", kept on screen until handled) or a message
 * (postRealtime's `{title, body}`). A click focuses a demo tab, or opens the room the
 * subscription was made in (`sw.js?room=…`); the page joins it and the server rings the new
 * connection while the call still rings (docs/api.md, "Ringing a user").
 */
const ROOM = new URL(self.location.href).searchParams.get('room') ?? '';

self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

/** What a push carries, whatever the sender put in it. */
function readPush(data) {
  if (!data) return { title: 'Switchboard', body: '' };
  try {
    const json = data.json();
    if (json && typeof json === 'object') return json;
  } catch {
    // not JSON: show the text
  }
  return { title: 'Switchboard', body: data.text() };
}

/** The notification for a push: its title, and the options showNotification takes. */
function notificationFor(push) {
  const data = push.data && typeof push.data === 'object' ? push.data : {};
  const call = data.type === 'call';
  return {
    title: String(push.title || (call ? 'Incoming call' : 'New message')),
    options: {
      body: String(push.body ?? ''),
      tag: call ? `call-${data.call}` : 'message',
      renotify: call,
      requireInteraction: call,
      data: { ...data, room: ROOM },
    },
  };
}

self.addEventListener('push', (event) => {
  const { title, options } = notificationFor(readPush(event.data));
  event.waitUntil(self.registration.showNotification(title, options));
});

/** The room page: `?room=<room>&from=notification` (the page joins at once with the remembered identity). */
function roomUrl(room) {
  const url = new URL('./', self.registration.scope);
  if (room) url.searchParams.set('room', room);
  url.searchParams.set('from', 'notification');
  return url.href;
}

/**
 * A click on a notification: a demo tab that is open (not connected, or no push would have come) is
 * sent to the room and focused; with none, the room opens in a new one. Either way the page joins
 * with the remembered identity and the call rings there. Named so the demo's e2e test can run it
 * on a shown notification: a test cannot click an operating-system notification.
 */
async function onNotificationClick(notification) {
  notification.close();
  const url = roomUrl(notification.data?.room ?? ROOM);
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
  if (!open) return self.clients.openWindow(url);
  // navigate() needs a tab this worker controls; focus() needs the click's user activation.
  const shown = open.url === url ? open : ((await open.navigate(url).catch(() => null)) ?? open);
  return shown.focus().catch(() => shown);
}

self.addEventListener('notificationclick', (event) => event.waitUntil(onNotificationClick(event.notification)));
