/** What the page URL says: room (`?room=standup` or `#standup`) and test knobs (`?ringTimeout=2000`). */

/** Same rule as the server's group names (protocol GROUP_NAME_PATTERN). */
const ROOM_PATTERN = /^(?! )[\p{L}\p{N} _\-.@#+~!:]{1,64}(?<! )$/u;

export function roomProblem(room: string): string | null {
  if (room.length === 0) return 'Pick a room name.';
  if (room.length > 64) return 'Room names are at most 64 characters.';
  if (room.startsWith('cid:')) return 'Room names cannot start with “cid:”.';
  if (!ROOM_PATTERN.test(room)) return 'Use letters, digits, spaces (not at either end) and _ - . @ # + ~ ! : only.';
  return null;
}

export function roomFromUrl(url: URL = new URL(location.href)): string | null {
  const fromQuery = url.searchParams.get('room');
  if (fromQuery && fromQuery.trim()) return fromQuery.trim();
  const hash = decodeURIComponent(url.hash.replace(/^#/, '')).trim();
  if (hash && !hash.includes('=')) return hash;
  return null;
}

/** The shareable link for a room on a given base URL (keeps test knobs out of it). */
export function roomLink(base: string, room: string): string {
  const url = new URL(base);
  url.search = '';
  url.hash = '';
  url.searchParams.set('room', room);
  return url.toString();
}

/** Puts the room into the address bar so the link can be copied as it is. */
export function showRoomInUrl(room: string | null): void {
  const url = new URL(location.href);
  if (room) url.searchParams.set('room', room);
  else url.searchParams.delete('room');
  if (url.hash && !url.hash.includes('=')) url.hash = '';
  history.replaceState(null, '', url);
}

export function ringTimeoutFromUrl(): number | undefined {
  return msFromUrl('ringTimeout');
}

/** `?iceTimeout=30000`: how long one connection attempt may take (SDK `iceRestartTimeoutMs`), for tests on starved machines. */
export function iceTimeoutFromUrl(): number | undefined {
  return msFromUrl('iceTimeout');
}

function msFromUrl(key: string): number | undefined {
  const raw = new URL(location.href).searchParams.get(key);
  if (raw === null) return undefined;
  const ms = Number(raw);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

const ADJECTIVES = ['calm', 'bright', 'quiet', 'swift', 'amber', 'cedar', 'lunar', 'misty', 'brave', 'sunny'];
const NOUNS = ['harbor', 'otter', 'meadow', 'falcon', 'river', 'maple', 'comet', 'lagoon', 'summit', 'willow'];

export function randomRoom(): string {
  const pick = (list: string[]): string => list[Math.floor(Math.random() * list.length)]!;
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${Math.floor(Math.random() * 90 + 10)}`;
}

/**
 * The camera size in group calls: every member sends to every other one, so less than a 1:1
 * call's 720p. `?groupVideo=160x120` (width×height, optionally `@fps`) sets it, for tests on small machines.
 */
export function groupVideoFromUrl(): MediaTrackConstraints {
  const raw = new URL(location.href).searchParams.get('groupVideo') ?? '';
  const match = /^(\d{2,4})x(\d{2,4})(?:@(\d{1,2}))?$/.exec(raw);
  if (!match) return { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } };
  return { width: { ideal: Number(match[1]) }, height: { ideal: Number(match[2]) }, frameRate: { ideal: Number(match[3] ?? 15) } };
}
