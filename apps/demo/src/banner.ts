/** The connection banner under the header: the server is unreachable, or reconnecting with a countdown. */
import { $ } from './dom.js';

let bannerTimer: number | undefined;

export function showBanner(text: string, kind: 'warn' | 'error', retry = false): void {
  const banner = $('banner');
  banner.classList.toggle('is-error', kind === 'error');
  $('banner-text').textContent = text;
  $('banner-retry').hidden = !retry;
  banner.hidden = false;
  $('realtime-dot').classList.add('is-down');
}

export function hideBanner(): void {
  window.clearInterval(bannerTimer);
  $('banner').hidden = true;
  $('realtime-dot').classList.remove('is-down');
}

export function showReconnecting(attempt: number, delayMs: number): void {
  window.clearInterval(bannerTimer);
  const until = Date.now() + delayMs;
  const tick = (): void => {
    const seconds = Math.ceil((until - Date.now()) / 1000);
    showBanner(
      seconds > 0
        ? `Connection to the server lost. Reconnecting in ${seconds} s (attempt ${attempt})…`
        : `Connection to the server lost. Reconnecting (attempt ${attempt})…`,
      'warn',
    );
  };
  tick();
  bannerTimer = window.setInterval(tick, 500);
}

/** Stops the reconnect countdown (the banner stays as it is). */
export function stopCountdown(): void {
  window.clearInterval(bannerTimer);
}
