/**
 * The group call's grid: one tile per person (you first) with their name, muted and camera-off
 * flags, the active speaker outlined, and a shared screen as a large tile across the grid.
 * The grid's columns follow the number of tiles (group.css). Pure view.
 */
import { routeAudio } from './devices.js';
import { $, fillAvatar, h, icon } from './dom.js';

export interface TileView {
  name: string;
  /** Keeps the avatar's colour stable (the user id). */
  key: string;
  /** The camera, when it is on and sending. */
  video: MediaStream | null;
  /** What we hear from this person (none for our own tile). */
  audio: MediaStreamTrack[];
  muted: boolean;
  camOff: boolean;
  /** Shown over the tile while there is no video (e.g. "Connecting…"). */
  status: string;
  self?: boolean;
}

interface Tile {
  root: HTMLElement;
  video: HTMLVideoElement;
  audio: HTMLAudioElement;
  off: HTMLElement;
  avatar: HTMLElement;
  label: HTMLElement;
  status: HTMLElement;
  muted: HTMLElement;
  camOff: HTMLElement;
  audioKey: string;
}

function flag(name: string, label: string): HTMLElement {
  return h('span', { class: 'tile-flag', role: 'img', 'aria-label': label, title: label, hidden: true }, icon(name));
}

export class GroupGrid {
  private readonly root = $('group-grid');
  private readonly tiles = new Map<string, Tile>();
  private readonly screens = new Map<string, { root: HTMLElement; video: HTMLVideoElement }>();
  private readonly soundButton = h('button', { class: 'btn btn-primary sound-btn', type: 'button', hidden: true }, 'Turn on sound');
  private speaker: string | null = null;
  private speakerDevice: string | null = null;

  constructor() {
    this.soundButton.addEventListener('click', () => {
      this.soundButton.hidden = true;
      for (const tile of this.tiles.values()) if (tile.audio.srcObject) this.play(tile.audio);
    });
  }

  get count(): number {
    return this.tiles.size;
  }

  open(speakerDevice: string | null): void {
    this.clear();
    this.speakerDevice = speakerDevice;
    this.root.append(this.soundButton);
  }

  clear(): void {
    for (const tile of this.tiles.values()) this.release(tile.video, tile.audio);
    for (const screen of this.screens.values()) this.release(screen.video);
    this.tiles.clear();
    this.screens.clear();
    this.speaker = null;
    this.soundButton.hidden = true;
    this.root.replaceChildren();
    this.relayout();
  }

  /** Adds or updates the tile `id` (a member's cid, or `self`). */
  set(id: string, view: TileView): void {
    let tile = this.tiles.get(id);
    if (!tile) {
      tile = this.create(id, view);
      this.tiles.set(id, tile);
      // You first, the others in the order they came; screens stay in front of everyone.
      if (view.self) this.root.insertBefore(tile.root, [...this.root.children].find((el) => !el.classList.contains('tile-screen')) ?? null);
      else this.root.insertBefore(tile.root, this.soundButton);
      this.relayout();
    }
    tile.label.textContent = view.self ? `${view.name} (you)` : view.name;
    tile.root.setAttribute('aria-label', view.self ? `${view.name} (you)` : view.name);
    fillAvatar(tile.avatar, view.name, view.key);
    this.source(tile.video, view.video);
    tile.root.dataset.video = String(!!view.video);
    tile.off.hidden = !!view.video;
    tile.status.textContent = view.video ? '' : view.status;
    tile.muted.hidden = !view.muted;
    tile.camOff.hidden = !view.camOff;
    tile.root.dataset.muted = String(view.muted);
    tile.root.dataset.camOff = String(view.camOff);
    const key = view.audio.map((t) => t.id).join(',');
    if (key !== tile.audioKey) {
      tile.audioKey = key;
      tile.audio.srcObject = view.audio.length ? new MediaStream(view.audio) : null;
      if (view.audio.length) this.play(tile.audio);
    }
  }

  remove(id: string): void {
    const tile = this.tiles.get(id);
    if (!tile) return;
    this.release(tile.video, tile.audio);
    tile.root.remove();
    this.tiles.delete(id);
    if (this.speaker === id) this.speaker = null;
    this.relayout();
  }

  /** A screen `owner` shares (null: stopped), shown large at the top of the grid. */
  setScreen(owner: string, name: string, stream: MediaStream | null): void {
    let screen = this.screens.get(owner);
    if (!stream) {
      if (!screen) return;
      this.release(screen.video);
      screen.root.remove();
      this.screens.delete(owner);
      this.relayout();
      return;
    }
    if (!screen) {
      const video = h('video', { autoplay: true, playsInline: true, muted: true });
      const label = `${name}’s screen`;
      const root = h(
        'figure',
        { class: 'tile tile-screen', role: 'group', 'aria-label': label },
        video,
        h('figcaption', { class: 'tile-name' }, icon('screen'), label),
      );
      screen = { root, video };
      this.screens.set(owner, screen);
      this.root.prepend(root);
      this.relayout();
    }
    this.source(screen.video, stream);
  }

  /** Outlines who is talking (null: nobody). */
  setSpeaker(id: string | null): void {
    if (id === this.speaker) return;
    this.speaker = id;
    for (const [tileId, tile] of this.tiles) {
      tile.root.classList.toggle('is-speaking', tileId === id);
      tile.root.dataset.speaking = String(tileId === id);
    }
  }

  async setSpeakerDevice(deviceId: string | null): Promise<void> {
    this.speakerDevice = deviceId;
    await Promise.all([...this.tiles.values()].map((tile) => routeAudio(tile.audio, deviceId)));
  }

  private create(id: string, view: TileView): Tile {
    const video = h('video', { autoplay: true, playsInline: true, muted: true, class: view.self ? 'mirrored' : '' });
    const audio = h('audio', { autoplay: true });
    const avatar = h('div', { class: 'avatar avatar-xl' });
    const status = h('p', { class: 'tile-status' });
    const off = h('div', { class: 'tile-off' }, avatar, status);
    const label = h('span', { class: 'tile-label' });
    const muted = flag('mic-off', 'Muted');
    const camOff = flag('cam-off', 'Camera off');
    const root = h(
      'figure',
      { class: `tile${view.self ? ' is-self' : ''}`, role: 'group', 'data-id': id, 'data-speaking': 'false' },
      video,
      off,
      audio,
      h('figcaption', { class: 'tile-name' }, muted, camOff, label),
    );
    if (!view.self) void routeAudio(audio, this.speakerDevice);
    return { root, video, audio, off, avatar, label, status, muted, camOff, audioKey: '' };
  }

  private source(video: HTMLVideoElement, stream: MediaStream | null): void {
    if (video.srcObject === stream) return;
    video.srcObject = stream;
    if (stream) video.play().catch(() => undefined); // muted video may always play; a detached one just stops
  }

  private play(audio: HTMLAudioElement): void {
    audio.play().catch((error: unknown) => {
      // Autoplay with sound needs a user gesture (joining was one, but a browser may still say no).
      if (error instanceof DOMException && error.name === 'NotAllowedError') this.soundButton.hidden = false;
    });
  }

  private release(...media: HTMLMediaElement[]): void {
    for (const m of media) m.srcObject = null;
  }

  private relayout(): void {
    this.root.dataset.count = String(this.tiles.size);
    this.root.classList.toggle('has-screen', this.screens.size > 0);
  }
}
