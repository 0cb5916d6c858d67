/** The room's invite links (from GET /v1/info when the server has it, else the address bar), each with a copy button. */
import { roomLink } from './config.js';
import { $, h, icon } from './dom.js';
import { toast } from './toast.js';

export async function showInviteLinks(room: string): Promise<void> {
  const list = $('invite-links');
  const note = $('invite-note');
  let urls: string[] = [];
  try {
    const response = await fetch(new URL('/v1/info', location.origin), { headers: { accept: 'application/json' } });
    if (response.ok) {
      const info = (await response.json()) as { urls?: unknown };
      if (Array.isArray(info.urls)) urls = info.urls.filter((u): u is string => typeof u === 'string');
    }
  } catch {
    // older server: fall back to the address in the bar
  }
  const links = [...new Set((urls.length ? urls : [location.href]).map((base) => roomLink(base, room)))];
  list.replaceChildren(
    ...links.map((link) => {
      const copy = h('button', { class: 'icon-btn', type: 'button', 'aria-label': `Copy link ${link}`, title: 'Copy link' }, icon('copy'));
      copy.addEventListener('click', () => void copyText(link));
      return h('li', { class: 'link-row' }, h('code', { title: link }, link), copy);
    }),
  );
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(location.hostname);
  note.hidden = !(local && urls.length === 0);
  note.textContent =
    'This link only works on this computer. To invite others on your network, open the demo through your computer’s network address (switchboard serve prints it).';
}

async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    toast('Link copied.');
  } catch {
    toast('Could not copy automatically: select the link and copy it.', 'warn');
  }
}
