/**
 * Switchboard demo: lobby → room (live presence) → calls.
 * The server is the page's own origin, so `switchboard serve` is all it needs.
 */
import { hideBanner, showBanner, showReconnecting, stopCountdown } from './banner.js';
import { Calls } from './calls.js';
import { ChatPanel } from './chat.js';
import { iceTimeoutFromUrl, randomRoom, ringTimeoutFromUrl, roomFromUrl, roomProblem, showRoomInUrl } from './config.js';
import { $ } from './dom.js';
import { GroupCallSession } from './group-call.js';
import { showInviteLinks } from './invite.js';
import { bindFilePicking } from './files.js';
import { capturingFetch, openedFromNotification, rememberedIdentity, showNotifyToggle } from './notify.js';
import { displayName, isAppMessage, Roster, type AppMessage } from './people.js';
import { PreJoin } from './prejoin.js';
import { unlockAudio } from './ring.js';
import { errorCode, errorMessage, Switchboard, type RealtimeEvent } from './sdk.js';
import { Stage } from './stage.js';
import { toast } from './toast.js';

const NAME_KEY = 'switchboard-demo:name';

interface Joined {
  sb: Switchboard;
  room: string;
  selfCid: string;
  user: { user_id: string; name: string | null };
  name: string;
  leaving: boolean;
  down: boolean;
}

/** Set once connected (before the join is acknowledged, so early notices and hellos are not lost). */
let joined: Joined | null = null;
let joining = false;

const stage = new Stage();
const chat = new ChatPanel();
const prejoin = new PreJoin();
const roster = new Roster((person) => void calls.call(person));
const calls = new Calls(
  () => joined?.sb ?? null,
  roster,
  stage,
  chat,
  (busy) => {
    roster.setSelf({ busy });
    void sayHello(null, true);
  },
);

const group = new GroupCallSession(
  () => joined?.sb ?? null,
  stage,
  chat,
  (busy) => calls.setInGroup(busy),
);
$('join-group').addEventListener('click', () => {
  if (joined && !calls.busy) void group.join({ name: joined.name, user_id: joined.user.user_id });
});

// ------------------------------------------------------------------ lobby

const form = $<HTMLFormElement>('join-form');
const nameInput = $<HTMLInputElement>('name');
const roomInput = $<HTMLInputElement>('room');
const tokenInput = $<HTMLTextAreaElement>('token');
const joinButton = $<HTMLButtonElement>('join');

function initLobby(): void {
  nameInput.value = localStorage.getItem(NAME_KEY) ?? '';
  roomInput.value = roomFromUrl() ?? randomRoom();
  prejoin.start();
  if (nameInput.value) joinButton.focus();
  else nameInput.focus();
}

function showJoinError(message: string, field?: HTMLInputElement | HTMLTextAreaElement): void {
  const box = $('join-error');
  box.textContent = message;
  box.hidden = false;
  for (const input of [nameInput, roomInput, tokenInput]) input.removeAttribute('aria-invalid');
  if (field) {
    field.setAttribute('aria-invalid', 'true');
    field.focus();
  }
}

function joinErrorText(error: unknown): { text: string; token?: boolean } {
  switch (errorCode(error)) {
    case 'UNAUTHORIZED':
      return { text: 'The server did not accept that token. Check it and try again.', token: true };
    case 'TOKEN_EXPIRED':
      return { text: 'That token has expired. Get a fresh one from your app and try again.', token: true };
    case 'GUESTS_DISABLED':
      return { text: 'This server does not allow guests. Sign in with an access token instead.', token: true };
    case 'TOO_MANY_CONNECTIONS':
      return { text: 'You are connected from too many tabs or devices. Close one and try again.' };
    case 'RATE_LIMITED':
      return { text: 'Too many attempts. Wait a moment and try again.' };
    case 'INVALID_PARAMETER':
      return { text: errorMessage(error) };
    default:
      return { text: `Could not connect to the server at ${location.host}: ${errorMessage(error)}` };
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void join();
});

async function join(): Promise<void> {
  if (joined || joining) return;
  $('join-error').hidden = true;
  const token = tokenInput.value.trim();
  const name = nameInput.value.trim().replace(/\s+/g, ' ');
  const room = roomInput.value.trim();
  if (!token && !name) return showJoinError('Enter your name (or sign in with a token).', nameInput);
  if (name.length > 64) return showJoinError('Names are at most 64 characters.', nameInput);
  const problem = roomProblem(room);
  if (problem) return showJoinError(problem, roomInput);

  unlockAudio(); // this click is the gesture that lets us ring later
  joinButton.disabled = true;
  joinButton.textContent = 'Joining…';
  const ringTimeoutMs = ringTimeoutFromUrl();
  const iceRestartTimeoutMs = iceTimeoutFromUrl();
  // With "Notify me of calls" on, the same name comes back as the same user (its calls ring here).
  const remembered = token ? null : rememberedIdentity();
  const sb = new Switchboard({
    url: location.origin,
    ...(token ? { token } : remembered?.name === name ? { token: remembered.token } : { name }),
    platform: { fetch: capturingFetch() },
    ...(ringTimeoutMs ? { ringTimeoutMs } : {}),
    ...(iceRestartTimeoutMs ? { iceRestartTimeoutMs } : {}),
  });
  joining = true;
  try {
    const welcome = await sb.connectRealtime(onRealtime);
    const user = welcome.user;
    joined = {
      sb,
      room,
      selfCid: welcome.cid,
      user,
      name: user.name?.trim() || name || displayName({ name: null, user_id: user.user_id }),
      leaving: false,
      down: false,
    };
    roster.reset({ cid: welcome.cid, user_id: user.user_id, name: joined.name });
    await sb.joinRealtime({ group: room });
    if (!token) localStorage.setItem(NAME_KEY, name);
    enterRoom();
  } catch (error) {
    joined = null;
    roster.reset(null);
    void sb.closeRealtime().catch(() => undefined);
    const { text, token: aboutToken } = joinErrorText(error);
    if (aboutToken) $<HTMLDetailsElement>('token-details').open = true;
    showJoinError(text, aboutToken ? tokenInput : undefined);
  } finally {
    joining = false;
    joinButton.disabled = false;
    joinButton.textContent = 'Join room';
  }
}

// ------------------------------------------------------------------ room

function enterRoom(): void {
  if (!joined) return;
  showRoomInUrl(joined.room);
  prejoin.stop(); // calls open the chosen devices themselves
  $('lobby').hidden = true;
  $('room-view').hidden = false;
  $('room-info').hidden = false;
  $('room-name').textContent = joined.room;
  $('invite-room').textContent = joined.room;
  $('self-name').textContent = joined.name;
  document.title = `${joined.room} · Switchboard`;
  void refreshRoster();
  void showInviteLinks(joined.room);
  showNotifyToggle(() => joined && { sb: joined.sb, room: joined.room, name: joined.name });
  $('people-title').focus({ preventScroll: true });
}

async function refreshRoster(): Promise<void> {
  const current = joined;
  if (!current) return;
  const since = performance.now();
  try {
    const rows: { user_id: string; cid: string }[] = [];
    let page = await current.sb.getRealtimeUsers({ group: current.room });
    rows.push(...page.list);
    for (let i = 0; !page.endOfList && i < 20; i++) {
      page = await current.sb.getRealtimeUsers({ group: current.room }, { startKey: page.startKey });
      rows.push(...page.list);
    }
    if (joined === current) roster.load(rows, since);
  } catch (error) {
    toast(`Could not load who is in the room: ${errorMessage(error)}`, 'warn');
  }
}

/** Our name and whether we are in a call: to one connection (`to`), or to the whole room. */
async function sayHello(to: string | null, reply: boolean): Promise<void> {
  const current = joined;
  if (!current || current.down) return;
  const message: AppMessage = { app: 'switchboard-demo', kind: 'hello', name: current.name, busy: calls.busy, ...(reply ? { reply: true } : {}) };
  try {
    await current.sb.postRealtime(message, to ?? current.room);
  } catch {
    // presence still works without names
  }
}

async function leaveRoom(): Promise<void> {
  const current = joined;
  if (!current) return;
  current.leaving = true;
  calls.endAll();
  group.leave();
  joined = null;
  try {
    await current.sb.closeRealtime();
  } catch {
    // closing anyway
  }
  hideBanner();
  showRoomInUrl(current.room);
  roster.reset(null);
  $('room-view').hidden = true;
  $('room-info').hidden = true;
  $('lobby').hidden = false;
  prejoin.start();
  roomInput.value = current.room;
  document.title = 'Switchboard';
  joinButton.focus();
}

$('leave').addEventListener('click', () => void leaveRoom());
bindFilePicking(() => calls.session?.files ?? null);
window.addEventListener('pagehide', () => {
  prejoin.stop();
  calls.endAll();
  group.leave();
  void joined?.sb.closeRealtime().catch(() => undefined);
});

// ------------------------------------------------------------------ connection banner

$('banner-retry').addEventListener('click', () => void retryConnection());

async function retryConnection(): Promise<void> {
  const current = joined;
  if (!current) return;
  showBanner('Reconnecting…', 'warn');
  try {
    await current.sb.connectRealtime(onRealtime);
    await current.sb.joinRealtime({ group: current.room });
    void onReconnected();
  } catch (error) {
    showBanner(`Still can’t reach the server: ${errorMessage(error)}`, 'error', true);
  }
}

async function onReconnected(): Promise<void> {
  const current = joined;
  if (!current) return;
  current.down = false;
  hideBanner();
  // A reconnect is a new connection with a new cid; the others greet it when they see USER_JOINED.
  const cid = current.sb.cid;
  if (cid && cid !== current.selfCid) {
    current.selfCid = cid;
    roster.changeSelfCid(cid);
  }
  await refreshRoster();
  toast('Reconnected.');
}

// ------------------------------------------------------------------ realtime events

const SERVER_DOWN_CODES = new Set(['CONNECTION_CLOSED', 'SERVER_UNAVAILABLE', 'TIMEOUT']);

function onRealtime(event: RealtimeEvent): void {
  const current = joined;
  switch (event.type) {
    case 'notice': {
      if (!current || !event.sender_cid || !event.sender) return;
      if (event.code === 'USER_JOINED') {
        // Greet newcomers privately; they answer with their name.
        if (roster.joined(event.sender, event.sender_cid)) void sayHello(event.sender_cid, false);
      } else if (event.code === 'USER_LEFT' || event.code === 'USER_DISCONNECTED') {
        roster.left(event.sender_cid);
      }
      return;
    }
    case 'message':
    case 'private': {
      if (!current || !event.sender || !event.sender_cid || event.sender_cid === current.selfCid) return;
      if (!isAppMessage(event.message)) return;
      roster.hello(event.sender, event.sender_cid, event.message);
      if (!event.message.reply) void sayHello(event.sender_cid, true);
      return;
    }
    case 'rtc:incoming':
      if (!current) {
        event.hangup('busy');
        return;
      }
      calls.handleIncoming(event);
      return;
    case 'rtc:closed':
      calls.handleClosed(event);
      return;
    case 'reconnect':
      if (!current) return;
      if ('resumed' in event) return; // the outcome of a reconnect: `success` follows and clears the banner
      current.down = true;
      showReconnecting(event.attempt, event.delayMs);
      return;
    case 'success':
      if (current?.down) void onReconnected();
      return;
    case 'error': {
      if (!current) return; // during join, the rejected promise says what went wrong
      const code = event.error?.code;
      const closed = 'closeCode' in event;
      if (code === 'TOKEN_EXPIRED' || code === 'UNAUTHORIZED') {
        current.down = true;
        showBanner('Your sign-in is no longer valid. Leave the room and join again with a fresh token.', 'error');
      } else if (closed && event.error) {
        // The server closed the connection for good (the SDK does not retry these).
        current.down = true;
        stopCountdown();
        showBanner(`Disconnected: ${event.message}`, 'error', true);
      } else if (code === undefined || SERVER_DOWN_CODES.has(code)) {
        current.down = true;
        if ($('banner').hidden) showBanner('Connection to the server lost. Reconnecting…', 'warn');
      } else {
        toast(event.message, 'warn');
      }
      return;
    }
    case 'close':
      if (!current || current.leaving) return;
      current.down = true;
      stopCountdown();
      showBanner('Disconnected from the server.', 'error', true);
      return;
    default:
      return;
  }
}

// ------------------------------------------------------------------ for tests and the curious

declare global {
  interface Window {
    __demo?: unknown;
  }
}

window.__demo = {
  get pc(): RTCPeerConnection | null {
    return calls.session?.rtc?.target ?? null;
  },
  get localStream(): MediaStream | null {
    return calls.session?.localStream ?? null;
  },
  get quality(): unknown {
    return calls.session?.quality ?? null;
  },
  get phase(): string {
    return calls.phaseName;
  },
  get cid(): string | null {
    return joined?.selfCid ?? null;
  },
  get group(): unknown {
    return group.debug;
  },
};

initLobby();
// Opened from a call or message notification: join at once as the remembered user (the call rings here).
const identity = openedFromNotification() ? rememberedIdentity() : null;
if (identity) {
  nameInput.value = identity.name;
  void join();
}
