/** The in-call device menu: camera, microphone and speaker pickers in a panel over the call. Pure view. */
import { canPickSpeaker, deviceOf, fillPicker, listDevices, loadPrefs, type DeviceKind } from './devices.js';
import { $ } from './dom.js';

export interface DeviceMenuSource {
  current(kind: 'camera' | 'microphone'): MediaStreamTrack | undefined;
  choose(kind: DeviceKind, deviceId: string): void;
}

export class DeviceMenu {
  private source: DeviceMenuSource | null = null;
  private readonly panel = $('device-menu');
  private readonly button = $('btn-devices');
  private readonly pickers: Record<DeviceKind, HTMLSelectElement> = {
    camera: $<HTMLSelectElement>('call-camera'),
    microphone: $<HTMLSelectElement>('call-microphone'),
    speaker: $<HTMLSelectElement>('call-speaker'),
  };

  constructor() {
    this.button.addEventListener('click', () => this.setOpen(this.panel.hidden === true));
    $('device-menu-close').addEventListener('click', () => {
      this.setOpen(false);
      this.button.focus();
    });
    this.panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.stopPropagation();
        this.setOpen(false);
        this.button.focus();
      }
    });
    for (const kind of ['camera', 'microphone', 'speaker'] as const) {
      this.pickers[kind].addEventListener('change', () => this.source?.choose(kind, this.pickers[kind].value));
    }
    $('call-speaker-field').hidden = !canPickSpeaker();
    navigator.mediaDevices?.addEventListener?.('devicechange', () => void this.refresh());
  }

  attach(source: DeviceMenuSource | null): void {
    this.source = source;
    if (!source) this.setOpen(false);
  }

  setOpen(open: boolean): void {
    this.panel.hidden = !open;
    this.button.setAttribute('aria-expanded', String(open));
    this.button.dataset.active = String(open);
    if (open) void this.refresh().then(() => this.pickers.camera.focus());
  }

  /** Re-reads the devices and which ones the call uses now. */
  async refresh(): Promise<void> {
    const source = this.source;
    if (!source) return;
    const [cameras, microphones] = await Promise.all([listDevices('camera'), listDevices('microphone')]);
    const camera = source.current('camera');
    const microphone = source.current('microphone');
    fillPicker(this.pickers.camera, camera ? cameras : [], deviceOf(camera), 'Camera');
    fillPicker(this.pickers.microphone, microphone ? microphones : [], deviceOf(microphone), 'Microphone');
    if (!camera) this.pickers.camera.firstElementChild!.textContent = 'Not in this call';
    if (!microphone) this.pickers.microphone.firstElementChild!.textContent = 'Not in this call';
    if (canPickSpeaker()) fillPicker(this.pickers.speaker, await listDevices('speaker'), loadPrefs().speaker, 'Speaker');
  }
}
