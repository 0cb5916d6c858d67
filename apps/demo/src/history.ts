/**
 * After a call: how long it lasted, and calls you missed (someone called while you were in
 * another call, or while the tab was in the background) with a way to call back. Shown as
 * "Recent calls" in the room; a missed call while away also marks the tab title until you look.
 */
import { $, h } from './dom.js';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const MAX_ENTRIES = 8;

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return hours ? `${hours}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export class CallLog {
  private unseen = 0;
  private readonly list = $('history-list');

  /** `callBack` calls that connection if it is still in the room, else rings the user. */
  constructor(private readonly callBack: (cid: string, name: string, user_id: string) => void) {
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.markSeen();
    });
  }

  /** A call that ended: with its duration when it got connected. */
  ended(name: string, durationMs: number | null): void {
    const text = durationMs === null ? `Call with ${name} · not connected` : `Call with ${name} · ${formatDuration(durationMs)}`;
    this.add(h('li', { class: 'is-ended' }, h('span', {}, text), h('span', { class: 'muted' }, timeFormat.format(Date.now()))));
  }

  /** Someone called and nobody answered: `why` says why ("while you were in another call", "while you were away"), if it is worth saying. */
  missed(name: string, cid: string, why: string, user_id: string): void {
    const back = h('button', { class: 'btn btn-small', type: 'button', 'aria-label': `Call ${name} back` }, 'Call back');
    back.addEventListener('click', () => this.callBack(cid, name, user_id));
    this.add(h('li', { class: 'is-missed' }, h('span', {}, `Missed call from ${name}${why ? ` ${why}` : ''} · ${timeFormat.format(Date.now())}`), back));
    if (document.visibilityState !== 'visible') {
      this.unseen += 1;
      this.markTitle();
    }
  }

  private add(item: HTMLElement): void {
    this.list.prepend(item);
    while (this.list.children.length > MAX_ENTRIES) this.list.lastElementChild?.remove();
    $('history').hidden = false;
  }

  private markTitle(): void {
    const base = document.title.replace(/^\(\d+ missed\) /, '');
    document.title = this.unseen ? `(${this.unseen} missed) ${base}` : base;
  }

  private markSeen(): void {
    if (!this.unseen) return;
    this.unseen = 0;
    this.markTitle();
  }
}
