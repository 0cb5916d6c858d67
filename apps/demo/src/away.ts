/**
 * "Recently here": people who left the room, by user, so they can still be called. A call to a
 * user rings every tab of theirs that is open anywhere; with none open, the server sends their
 * browsers a "<name> is calling" push (if they turned notifications on) and the tab the
 * notification opens rings (docs/api.md, "Ringing a user").
 */
import { $, fillAvatar, h, icon } from './dom.js';
import { displayName, type Person } from './people.js';

const MAX_AWAY = 5;

export class RecentlyLeft {
  private readonly people = new Map<string, Person>();

  constructor(private readonly onRing: (person: Person) => void) {}

  /** A named person left (a guest without a name is not worth listing: nobody knows who it was). */
  add(person: Person, selfUserId: string | null): void {
    if (person.self || person.user_id === selfUserId) return;
    this.people.delete(person.user_id);
    this.people.set(person.user_id, { ...person, cid: '', busy: false });
    while (this.people.size > MAX_AWAY) this.people.delete(this.people.keys().next().value!);
    this.render();
  }

  /** Back in the room (any tab): listed above again. */
  back(user_id: string): void {
    if (this.people.delete(user_id)) this.render();
  }

  clear(): void {
    this.people.clear();
    this.render();
  }

  render(inCall = false): void {
    const rows = [...this.people.values()].reverse().map((person) => this.row(person, inCall));
    $('people-away').replaceChildren(...rows);
    $('people-away-section').hidden = rows.length === 0;
  }

  private row(person: Person, inCall: boolean): HTMLLIElement {
    const name = displayName(person);
    const avatar = h('div', { class: 'avatar' });
    fillAvatar(avatar, name, person.user_id);
    const button = h('button', { class: 'btn btn-small btn-ghost', type: 'button', 'aria-label': `Ring ${name}` }, icon('phone'), 'Ring');
    button.title = inCall ? 'You are already in a call' : `Rings ${name}'s open tabs, or sends a notification if they turned them on`;
    button.disabled = inCall;
    button.addEventListener('click', () => this.onRing(person));
    return h(
      'li',
      { class: 'person is-away', 'data-user': person.user_id },
      avatar,
      h('div', { class: 'person-text' }, h('span', { class: 'person-name' }, name), h('span', { class: 'person-status' }, 'Left the room')),
      button,
    );
  }
}
