import { $, h, icon } from './dom.js';

export type ToastKind = 'info' | 'warn' | 'error';

/** Short messages at the bottom of the screen, read out by screen readers (the region is role=status). */
export function toast(text: string, kind: ToastKind = 'info', ms = 6000): void {
  const region = $('toasts');
  const item = h('div', { class: `toast is-${kind}` }, h('span', { class: 'toast-text' }, text));
  const close = h('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Dismiss' }, icon('close'));
  close.addEventListener('click', () => item.remove());
  item.append(close);
  region.append(item);
  while (region.children.length > 3) region.firstElementChild?.remove();
  window.setTimeout(() => item.remove(), ms);
}
