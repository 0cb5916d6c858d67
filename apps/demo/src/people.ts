/**
 * Who is in the room: one row per connection (cid), kept live from
 * USER_JOINED / USER_LEFT / USER_DISCONNECTED notices. Display names and
 * "in a call" travel in small app messages (see AppMessage) because presence
 * rows only carry user_id and cid.
 */
import { RecentlyLeft } from './away.js';
import { $, fillAvatar, h, icon } from './dom.js';

export interface Person {
  cid: string;
  user_id: string;
  name: string | null;
  busy: boolean;
  self: boolean;
  /** performance.now() when a notice or hello last told us about this row. */
  seenAt: number;
}

/**
 * Names and "in a call" travel as small app messages: whoever sees USER_JOINED sends the
 * newcomer a private hello and the newcomer answers with `reply: true`; a change of busy
 * state is broadcast to the room with `reply: true` (no answers needed).
 */
export interface AppMessage {
  app: 'switchboard-demo';
  kind: 'hello';
  name: string;
  busy: boolean;
  reply?: boolean;
}

export function isAppMessage(value: unknown): value is AppMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<AppMessage>;
  return m.app === 'switchboard-demo' && m.kind === 'hello' && typeof m.name === 'string';
}

export function displayName(person: Pick<Person, 'name' | 'user_id'>): string {
  if (person.name && person.name.trim()) return person.name.trim().slice(0, 64);
  return `Guest ${person.user_id.replace(/^guest[:_-]?/i, '').slice(0, 6)}`;
}

export class Roster {
  private readonly people = new Map<string, Person>();
  private readonly gone = new Map<string, number>();
  private selfCid: string | null = null;
  private inCall = false;
  private readonly away: RecentlyLeft;

  /** `onCall`: a person here (by cid), or one who left (cid '': ring their user_id). */
  constructor(private readonly onCall: (person: Person) => void) {
    this.away = new RecentlyLeft(onCall);
  }

  get(cid: string | null | undefined): Person | undefined {
    return cid ? this.people.get(cid) : undefined;
  }

  reset(self: { cid: string; user_id: string; name: string } | null): void {
    this.people.clear();
    this.gone.clear();
    this.away.clear();
    this.selfCid = self?.cid ?? null;
    if (self) this.people.set(self.cid, { ...self, busy: this.inCall, self: true, seenAt: performance.now() });
    this.render();
  }

  /** After a reconnect: same user, new connection id. */
  changeSelfCid(cid: string): void {
    const me = this.get(this.selfCid);
    if (!me || me.cid === cid) return;
    this.people.delete(me.cid);
    this.selfCid = cid;
    this.people.set(cid, { ...me, cid });
    this.render();
  }

  /**
   * Merges a listing fetched since `since` (performance.now()): rows we heard about
   * (joined or left) after the listing was requested win over the listing.
   */
  load(rows: { user_id: string; cid: string }[], since: number): void {
    const listed = new Set<string>();
    for (const row of rows) {
      listed.add(row.cid);
      if (row.cid === this.selfCid || this.people.has(row.cid)) continue;
      const goneAt = this.gone.get(row.cid);
      if (goneAt !== undefined && goneAt >= since) continue;
      this.people.set(row.cid, { cid: row.cid, user_id: row.user_id, name: null, busy: false, self: false, seenAt: since });
    }
    for (const [cid, person] of this.people) {
      if (!person.self && !listed.has(cid) && person.seenAt < since) this.people.delete(cid);
    }
    this.render();
  }

  joined(user_id: string, cid: string): boolean {
    this.gone.delete(cid);
    if (cid === this.selfCid) return false;
    this.away.back(user_id);
    const person = this.people.get(cid);
    if (person) {
      person.seenAt = performance.now();
      return false;
    }
    this.people.set(cid, { cid, user_id, name: null, busy: false, self: false, seenAt: performance.now() });
    this.render();
    return true;
  }

  left(cid: string): Person | undefined {
    this.gone.set(cid, performance.now());
    const person = this.people.get(cid);
    if (!person || person.self) return undefined;
    this.people.delete(cid);
    // Another tab of theirs may still be here: only a user with no row left is away.
    if (person.name && ![...this.people.values()].some((p) => p.user_id === person.user_id)) this.away.add(person, this.get(this.selfCid)?.user_id ?? null);
    this.render();
    return person;
  }

  /** A hello from someone: their name and whether they are in a call. */
  hello(user_id: string, cid: string, message: AppMessage): void {
    if (cid === this.selfCid || this.gone.has(cid)) return;
    const person = this.people.get(cid) ?? { cid, user_id, name: null, busy: false, self: false, seenAt: performance.now() };
    person.name = message.name.slice(0, 64);
    person.busy = message.busy;
    person.seenAt = performance.now();
    this.people.set(cid, person);
    this.render();
  }

  setSelf(update: { name?: string; busy?: boolean }): void {
    const me = this.get(this.selfCid);
    if (!me) return;
    if (update.name !== undefined) me.name = update.name;
    if (update.busy !== undefined) {
      me.busy = update.busy;
      this.inCall = update.busy;
    }
    this.render();
  }

  private sorted(): Person[] {
    return [...this.people.values()].sort((a, b) => {
      if (a.self !== b.self) return a.self ? -1 : 1;
      return displayName(a).localeCompare(displayName(b));
    });
  }

  render(): void {
    const list = $('people');
    const focusedCid = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('[data-cid]')?.dataset.cid;
    const others = [...this.people.values()].filter((p) => !p.self);
    list.replaceChildren(...this.sorted().map((person) => this.row(person)));
    $('people-empty').hidden = others.length > 0;
    $('people-count').textContent = `${this.people.size} ${this.people.size === 1 ? 'person' : 'people'}`;
    if (focusedCid) list.querySelector<HTMLElement>(`[data-cid="${CSS.escape(focusedCid)}"] button`)?.focus();
    this.away.render(this.inCall);
  }

  private row(person: Person): HTMLLIElement {
    const name = displayName(person);
    const avatar = h('div', { class: 'avatar' });
    fillAvatar(avatar, name, person.user_id);
    const status = person.self ? (person.busy ? 'You · in a call' : 'You') : person.busy ? 'In a call' : 'Available';
    const li = h(
      'li',
      { class: `person${person.busy ? ' is-busy' : ''}${person.self ? ' is-self' : ''}`, 'data-cid': person.cid },
      avatar,
      h('div', { class: 'person-text' }, h('span', { class: 'person-name' }, name), h('span', { class: 'person-status' }, status)),
    );
    if (!person.self) {
      const button = h('button', { class: 'btn btn-small', type: 'button', 'aria-label': `Call ${name}` }, icon('phone'), 'Call');
      if (this.inCall) {
        button.disabled = true;
        button.title = 'You are already in a call';
      } else if (person.busy) {
        button.title = `${name} is in a call`;
      }
      button.addEventListener('click', () => this.onCall(person));
      li.append(button);
    }
    return li;
  }
}
