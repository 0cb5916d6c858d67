/**
 * An in-memory WebSocket for session units: the test plays the server (welcome, frames, drops)
 * and reads what the SDK sent. No network, no timers of its own.
 */
import { DEFAULT_LIMITS, SUBPROTOCOL } from '@switchboard/protocol';
import { Switchboard } from '../src/switchboard.js';
import type { Platform } from '../src/types.js';
import { Recorder } from './recorder.js';

export class FakeSocket {
  static all: FakeSocket[] = [];
  private static waiters: (() => void)[] = [];
  readyState = 0;
  protocol = '';
  bufferedAmount = 0;
  readonly sent: Record<string, unknown>[] = [];
  closedWith: number | null = null;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string | string[] = [],
  ) {
    FakeSocket.all.push(this);
    for (const wake of FakeSocket.waiters.splice(0)) wake();
  }

  /** Resolves with socket number `index` (0-based) once the SDK opened it. */
  static async nth(index: number, timeoutMs = 2_000): Promise<FakeSocket> {
    const deadline = Date.now() + timeoutMs;
    while (FakeSocket.all.length <= index) {
      if (Date.now() > deadline) throw new Error(`no socket #${index} (have ${FakeSocket.all.length})`);
      await new Promise<void>((resolve) => {
        FakeSocket.waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
    return FakeSocket.all[index]!;
  }

  static reset(): void {
    FakeSocket.all = [];
    FakeSocket.waiters = [];
  }

  get params(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  /** Opens and welcomes; extra fields are the resume ones. */
  welcome(cid: string, extra: { resume?: string; resumed?: boolean; resumeReason?: string; replayTo?: number } = {}): void {
    this.readyState = 1;
    this.protocol = SUBPROTOCOL;
    this.onopen?.();
    this.push({
      type: 'welcome',
      cid,
      user: { user_id: 'u', name: null },
      limits: { ...DEFAULT_LIMITS },
      iceServers: [],
      iceExpiresAt: null,
      node: 'fake',
      ...extra,
    });
  }

  push(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  message(seq: number | undefined, message: unknown): void {
    this.push({ type: 'message', message, sender: 'peer', sender_cid: 'cid:peer', sender_rid: 'room', ...(seq === undefined ? {} : { seq }) });
  }

  ack(seq: number | undefined, id: number, result: unknown = { delivered: 1 }): void {
    this.push({ type: 'ack', id, result, ...(seq === undefined ? {} : { seq }) });
  }

  /** The server side drops the socket. */
  drop(code = 1006, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  send(text: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(text) as Record<string, unknown>);
  }

  /** Requests the SDK sent (pings left out). */
  requests(type?: string): Record<string, unknown>[] {
    return this.sent.filter((frame) => frame.type !== 'ping' && (type === undefined || frame.type === type));
  }

  close(code = 1000, reason = ''): void {
    this.closedWith = code;
    this.drop(code, reason);
  }

  terminate(): void {
    this.closedWith = 1006;
    this.drop(1006, '');
  }
}

export function fakePlatform(kind: Platform['kind'] = 'node'): Platform {
  return {
    WebSocket: FakeSocket as unknown as Platform['WebSocket'],
    fetch: () => Promise.reject(new Error('no fetch in unit tests')),
    RTCPeerConnection: undefined,
    getUserMedia: undefined,
    isSecureContext: () => true,
    kind,
  };
}

/** Every client `fakeClient` made: `closeFakeClients()` stops them (else they keep reconnecting into the next test). */
const made: Switchboard[] = [];

export async function closeFakeClients(): Promise<void> {
  await Promise.all(made.splice(0).map((sb) => sb.closeRealtime()));
  FakeSocket.reset();
}

/** A Switchboard on fake sockets, connected (socket #0 welcomed as `cid`, with a resume token). */
export async function fakeClient(options: { cid?: string; token?: string | null; requestTimeoutMs?: number } = {}) {
  FakeSocket.reset();
  const sb = new Switchboard(
    { url: 'http://fake.test', token: 'jwt', reconnect: { baseDelayMs: 0, maxDelayMs: 0 }, requestTimeoutMs: options.requestTimeoutMs ?? 5_000 },
    fakePlatform(),
  );
  made.push(sb);
  const events = new Recorder();
  const connected = sb.connectRealtime(events.cb);
  const socket = await FakeSocket.nth(0);
  const token = options.token === undefined ? 'token-1' : options.token;
  socket.welcome(options.cid ?? 'cid:one', token === null ? {} : { resume: token });
  await connected;
  return { sb, events, socket };
}

/** Lets promise callbacks run (acks resolving, the re-sync continuing). */
export const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
