/**
 * Browser side of the peer-session suite: bundled with esbuild into a page. Drives one
 * PeerSession from packages/client/src/rtc; signals leave through `window.sendSignal`
 * (a Playwright binding) and come back through `harness.signal()`.
 */
import { PeerSession, normalizeChannels, type PeerSignal } from '../../packages/client/src/rtc/index.js';

declare global {
  interface Window {
    sendSignal(json: string): Promise<void>;
    harness: typeof harness;
  }
}

interface StartOptions {
  polite: boolean;
  initialOfferer: boolean;
  media: { audio: boolean; video: boolean } | null;
  channels?: unknown;
  graceMs?: number;
  maxRestarts?: number;
  restartTimeoutMs?: number;
}

let session: PeerSession | null = null;
const events: { type: string; label?: string; state?: string; data?: unknown; at: number }[] = [];
const received: Record<string, unknown[]> = {};
const signalsOut: string[] = [];
const warnings: string[] = [];
let failed: string | null = null;
let tracks = 0;
let controlMessages: unknown[] = [];
const opened: MediaStream[] = [];

const harness = {
  events,
  received,
  signalsOut,
  warnings,
  get failed() {
    return failed;
  },
  get tracks() {
    return tracks;
  },
  get controlMessages() {
    return controlMessages;
  },
  get pc(): RTCPeerConnection | null {
    return session?.pc ?? null;
  },
  async start(options: StartOptions): Promise<void> {
    let stream: MediaStream | null = null;
    if (options.media && (options.media.audio || options.media.video)) {
      stream = await navigator.mediaDevices.getUserMedia(options.media);
      opened.push(stream);
    }
    session = new PeerSession({
      RTCPeerConnection,
      config: { iceServers: [], bundlePolicy: 'max-bundle' },
      polite: options.polite,
      initialOfferer: options.initialOfferer,
      channels: normalizeChannels(options.channels),
      stream,
      iceDisconnectGraceMs: options.graceMs ?? 3000,
      maxIceRestarts: options.maxRestarts ?? 3,
      iceRestartTimeoutMs: options.restartTimeoutMs ?? 10_000,
    });
    session.on('signal', (signal: PeerSignal) => {
      const json = JSON.stringify(signal);
      signalsOut.push(signal.kind === 'description' ? `description:${signal.description.type}` : 'candidate');
      void window.sendSignal(json);
    });
    session.on('event', (e) => {
      const entry: (typeof events)[number] = { type: e.type, at: performance.now() };
      if ('label' in e && typeof e.label === 'string') entry.label = e.label;
      if ('state' in e && typeof e.state === 'string') entry.state = e.state;
      if (e.type === 'message') {
        entry.data = e.data;
        (received[e.label as string] ??= []).push(e.data);
      }
      if (e.type === 'track') tracks += 1;
      events.push(entry);
    });
    session.on('failed', (error) => {
      failed = `${error.code}: ${error.message}`;
    });
    session.on('warning', (w) => {
      warnings.push(`${w.message}: ${String(w.error)}`);
    });
    session.on('control', (m) => {
      controlMessages.push(m);
    });
  },
  signal(json: string): void {
    session?.handleSignal(JSON.parse(json) as PeerSignal);
  },
  send(label: string, data: string): boolean {
    const channel = session?.channels[label];
    if (!channel || channel.readyState !== 'open') return false;
    channel.send(data);
    return true;
  },
  channelLabels(): string[] {
    return Object.keys(session?.channels ?? {});
  },
  openChannel(label: string): void {
    session?.pc.createDataChannel(label, { ordered: true });
  },
  async addVideo(): Promise<void> {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true });
    opened.push(stream);
    for (const track of stream.getTracks()) session?.pc.addTrack(track, stream);
  },
  restartIce(): void {
    session?.pc.restartIce();
  },
  controlOpen(): boolean {
    return session?.controlOpen ?? false;
  },
  sendControl(message: unknown): boolean {
    return session?.sendControl(message as never) ?? false;
  },
  state(): Record<string, string> {
    const pc = session?.pc;
    return pc ? { connection: pc.connectionState, ice: pc.iceConnectionState, signaling: pc.signalingState } : {};
  },
  async framesDecoded(): Promise<number> {
    const stats = await session?.pc.getStats();
    let frames = 0;
    stats?.forEach((report: { type: string; kind?: string; framesDecoded?: number }) => {
      if (report.type === 'inbound-rtp' && report.kind === 'video') frames += report.framesDecoded ?? 0;
    });
    return frames;
  },
  async selectedPair(): Promise<string> {
    const stats = await session?.pc.getStats();
    let out = '';
    stats?.forEach((report: { type: string; state?: string; nominated?: boolean; localCandidateId?: string }) => {
      if (report.type === 'candidate-pair' && report.state === 'succeeded' && report.nominated) out = report.localCandidateId ?? 'yes';
    });
    return out;
  },
  async close(): Promise<void> {
    await session?.close(300);
    for (const stream of opened) for (const track of stream.getTracks()) track.stop();
  },
  clearControl(): void {
    controlMessages = [];
  },
};

window.harness = harness;
