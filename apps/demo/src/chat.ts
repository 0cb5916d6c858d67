/** The in-call chat panel. Messages travel as JSON over the call's `default` data channel. */
import { $, h } from './dom.js';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export class ChatPanel {
  private unread = 0;
  private sendHandler: ((text: string) => void) | null = null;
  private readonly panel = $('chat');
  private readonly log = $('chat-log');
  private readonly input = $<HTMLInputElement>('chat-input');
  private readonly toggleButton = $('btn-chat');

  constructor() {
    $('chat-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (!text || !this.sendHandler) return;
      this.sendHandler(text);
      this.input.value = '';
    });
    this.toggleButton.addEventListener('click', () => this.setOpen(!this.isOpen));
    $('chat-close').addEventListener('click', () => {
      this.setOpen(false);
      this.toggleButton.focus();
    });
    this.panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && window.matchMedia('(max-width: 760px)').matches) {
        this.setOpen(false);
        this.toggleButton.focus();
      }
    });
  }

  get isOpen(): boolean {
    return !this.panel.hidden;
  }

  start(onSend: (text: string) => void): void {
    this.sendHandler = onSend;
    this.log.replaceChildren();
    $('chat-empty').hidden = false;
    this.unread = 0;
    this.updateUnread();
    // Side panel on wide screens; on phones it is a sheet the user opens.
    this.setOpen(window.matchMedia('(min-width: 1100px)').matches, false);
  }

  stop(): void {
    this.sendHandler = null;
    this.setOpen(false, false);
  }

  setOpen(open: boolean, focus = true): void {
    this.panel.hidden = !open;
    this.toggleButton.setAttribute('aria-expanded', String(open));
    this.toggleButton.dataset.active = String(open);
    if (open) {
      this.unread = 0;
      this.updateUnread();
      this.scrollToEnd();
      if (focus) this.input.focus();
    }
  }

  add(text: string, from: string, mine: boolean, at = Date.now()): void {
    $('chat-empty').hidden = true;
    const item = h(
      'li',
      { class: `msg${mine ? ' is-mine' : ''}` },
      h('div', { class: 'msg-body' }, text),
      h('div', { class: 'msg-meta' }, `${mine ? 'You' : from} · ${timeFormat.format(at)}`),
    );
    this.log.append(item);
    this.scrollToEnd();
    if (!mine && !this.isOpen) {
      this.unread += 1;
      this.updateUnread();
    }
  }

  /** A ready-made entry (a file transfer); `announce` counts it as unread when the chat is closed. */
  addEntry(item: HTMLElement, mine: boolean, announce?: string): void {
    $('chat-empty').hidden = true;
    this.log.append(item);
    this.scrollToEnd();
    if (!mine && announce && !this.isOpen) {
      this.unread += 1;
      this.updateUnread();
    }
  }

  system(text: string): void {
    $('chat-empty').hidden = true;
    this.log.append(h('li', { class: 'msg is-system' }, text));
    this.scrollToEnd();
  }

  private scrollToEnd(): void {
    this.log.scrollTop = this.log.scrollHeight;
  }

  private updateUnread(): void {
    const badge = $('chat-unread');
    badge.hidden = this.unread === 0;
    badge.textContent = this.unread > 9 ? '9+' : String(this.unread);
    this.toggleButton.setAttribute('aria-label', this.unread ? `Chat, ${this.unread} unread` : 'Chat');
  }
}
