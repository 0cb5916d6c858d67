/**
 * Session resume end to end (docs/adr/0008-resume.md) against the real server: the Node SDK
 * loses its socket (the server destroys it, or it dies under the SDK) and comes back with the
 * same cid, the messages it missed once and in order, its requests in flight answered once;
 * after the window, a new connection that says why.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nodePlatform, Switchboard } from '../src/node/index.js';
import type { Platform, ReconnectedEvent } from '../src/types.js';
import { isNotice, Recorder } from './recorder.js';
import { startServer, type TestServer } from './server.js';

const fast = { baseDelayMs: 10, maxDelayMs: 50 };
let servers: TestServer[] = [];
let clients: Switchboard[] = [];

afterEach(async () => {
  await Promise.all(clients.map((sb) => sb.closeRealtime()));
  await Promise.all(servers.map((server) => server.close()));
  clients = [];
  servers = [];
});

async function server(config: Parameters<typeof startServer>[0] = {}, port = 0): Promise<TestServer> {
  const started = await startServer(config, port);
  servers.push(started);
  return started;
}

/** Holds the next reconnect attempts (the token provider waits) until `open()`. */
class Gate {
  private held: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;
  close(): void {
    this.held = new Promise((resolve) => (this.release = resolve));
  }
  open(): void {
    this.release();
  }
  wait(): Promise<void> {
    return this.held;
  }
}

/** The SDK's sockets, with a hook on every frame that comes in: return false to kill the socket instead of delivering it. */
function tappedPlatform(): { platform: Partial<Platform>; sockets: { terminate(): void }[]; tap: { incoming: ((text: string) => boolean) | null } } {
  const tap: { incoming: ((text: string) => boolean) | null } = { incoming: null };
  const sockets: { terminate(): void }[] = [];
  const Base = nodePlatform().WebSocket as unknown as new (url: string, protocols?: string | string[]) => WebSocket & { terminate(): void };
  const Tapped = class extends Base {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
    override set onmessage(handler: ((event: MessageEvent) => void) | null) {
      super.onmessage =
        handler === null
          ? null
          : (event: MessageEvent) => {
              if (tap.incoming && typeof event.data === 'string' && !tap.incoming(event.data)) {
                tap.incoming = null;
                this.terminate();
                return;
              }
              handler(event);
            };
    }
    override get onmessage(): ((event: MessageEvent) => void) | null {
      return super.onmessage as ((event: MessageEvent) => void) | null;
    }
  };
  return { platform: { WebSocket: Tapped as unknown as Platform['WebSocket'] }, sockets, tap };
}

async function connect(target: TestServer, user_id: string, extra: { gate?: Gate; platform?: Partial<Platform> } = {}) {
  const sb = new Switchboard({
    url: target.url,
    reconnect: fast,
    token: async () => {
      await extra.gate?.wait();
      return target.token(user_id);
    },
    ...(extra.platform ? { platform: extra.platform } : {}),
  });
  clients.push(sb);
  const events = new Recorder();
  const { cid } = await sb.connectRealtime(events.cb);
  return { sb, events, cid };
}

const outcomeOf = (e: { type: string }): e is ReconnectedEvent => e.type === 'reconnect' && 'resumed' in e;
const messagesFrom = (events: Recorder, from: number) => events.of('message', from).map((e) => e.message);

describe('resume', () => {
  it('server-side drop: same cid, resumed, the messages posted meanwhile arrive once and in order, the group sees nothing', async () => {
    const srv = await server();
    const gate = new Gate();
    const a = await connect(srv, 'ann');
    const b = await connect(srv, 'bob', { gate });
    await a.sb.joinRealtime({ group: 'room' });
    await b.sb.joinRealtime({ group: 'room' });
    await a.events.waitFor(isNotice('USER_JOINED', b.cid));
    const mark = b.events.mark();
    const aMark = a.events.mark();

    gate.close();
    expect(srv.dropUser('bob')).toBe(1);
    await b.events.waitFor((e) => e.type === 'error' && e.message === 'Skapi: WebSocket unexpected close.', mark);
    for (let n = 1; n <= 5; n++) expect((await a.sb.postRealtime({ n }, 'room')).delivered).toBe(2); // b is away, not gone
    gate.open();

    const outcome = await b.events.waitFor(outcomeOf, mark);
    expect(outcome).toEqual({ type: 'reconnect', message: 'Resumed the WebSocket connection.', resumed: true, cid: b.cid, previousCid: b.cid });
    await b.events.waitFor(() => b.events.of('message', mark).length >= 5, mark);
    expect(b.sb.cid).toBe(b.cid);
    // Live traffic after the replay, and a sync point for duplicates that might still come.
    await a.sb.postRealtime({ n: 6 }, 'room');
    await b.events.waitFor((e) => e.type === 'message' && (e.message as { n: number }).n === 6, mark);
    expect(messagesFrom(b.events, mark)).toEqual([1, 2, 3, 4, 5, 6].map((n) => ({ n })));
    // Skapi's events around it, just fewer: no re-join notice for b, none of b's churn for a.
    expect(
      b.events.events
        .slice(mark)
        .map((e) => e.type)
        .slice(0, 4),
    ).toEqual(['error', 'reconnect', 'reconnect', 'success']);
    expect(b.events.count((e) => e.type === 'notice', mark)).toBe(0);
    expect(a.events.count((e) => e.type === 'notice', aMark)).toBe(0);
    expect((await b.sb.getRealtimeUsers()).list.map((row) => row.cid).sort()).toEqual([a.cid, b.cid].sort());
    expect((await b.sb.postRealtime('still in room', 'room')).delivered).toBe(2);
  });

  it('client-side drop with the ack lost: the post in flight resolves once and is delivered once', async () => {
    const srv = await server();
    const a = await connect(srv, 'ann');
    const tapped = tappedPlatform();
    const b = await connect(srv, 'bob', { platform: tapped.platform });
    await a.sb.joinRealtime({ group: 'room' });
    await b.sb.joinRealtime({ group: 'room' });
    const aMark = a.events.mark();
    // The server runs the post; its ack never reaches the SDK: the socket dies as it arrives.
    tapped.tap.incoming = (text) => !text.includes('"type":"ack"');
    let settled = 0;
    const posted = b.sb.postRealtime({ once: true }, 'room').finally(() => (settled += 1));
    expect(await posted).toMatchObject({ type: 'success', delivered: 2 });
    expect(tapped.sockets.length).toBe(2);
    expect(b.sb.cid).toBe(b.cid);
    await a.events.waitFor((e) => e.type === 'message', aMark);
    await b.sb.postRealtime('sync', 'room');
    await a.events.waitFor((e) => e.type === 'message' && e.message === 'sync', aMark);
    expect(messagesFrom(a.events, aMark)).toEqual([{ once: true }, 'sync']);
    expect(settled).toBe(1);
  });

  it('client-side drop before the request reached the server: sent again with its id after the resume, run once', async () => {
    const srv = await server();
    const a = await connect(srv, 'ann');
    const tapped = tappedPlatform();
    const b = await connect(srv, 'bob', { platform: tapped.platform });
    await a.sb.joinRealtime({ group: 'room' });
    await b.sb.joinRealtime({ group: 'room' });
    const aMark = a.events.mark();
    // A half-open socket: what the SDK writes now is lost, and it learns so only afterwards.
    const socket = tapped.sockets[0] as unknown as { send(data: string): void; terminate(): void };
    const send = socket.send.bind(socket);
    socket.send = (data: string) => {
      if (!data.includes('"lost on the way"')) return send(data);
      setTimeout(() => socket.terminate(), 20);
    };
    const posted = b.sb.postRealtime('lost on the way', 'room');
    expect(await posted).toMatchObject({ type: 'success', delivered: 2 });
    expect(b.sb.cid).toBe(b.cid);
    await b.sb.postRealtime('sync', 'room');
    await a.events.waitFor((e) => e.type === 'message' && e.message === 'sync', aMark);
    expect(messagesFrom(a.events, aMark)).toEqual(['lost on the way', 'sync']);
  });

  it('after the window: not resumed (expired), a new cid, the group re-joined, then the queued request', async () => {
    const srv = await server({ resume: { windowMs: 200 } });
    const gate = new Gate();
    const a = await connect(srv, 'ann');
    const b = await connect(srv, 'bob', { gate });
    await a.sb.joinRealtime({ group: 'room' });
    await b.sb.joinRealtime({ group: 'room' });
    const mark = b.events.mark();
    const aMark = a.events.mark();
    gate.close();
    srv.dropUser('bob');
    await a.events.waitFor(isNotice('USER_DISCONNECTED', b.cid), aMark, 10_000, 'the window passing');
    const queued = b.sb.postRealtime('queued while away', 'room');
    gate.open();
    const outcome = await b.events.waitFor(outcomeOf, mark);
    expect(outcome).toMatchObject({ type: 'reconnect', resumed: false, reason: 'expired', previousCid: b.cid });
    expect((outcome as ReconnectedEvent).cid).not.toBe(b.cid);
    expect((outcome as ReconnectedEvent).message).toBe('Reconnected with a new connection (not resumed: expired).');
    await a.events.waitFor(isNotice('USER_JOINED', (outcome as ReconnectedEvent).cid), aMark);
    expect(await queued).toMatchObject({ delivered: 2 });
    expect(b.sb.cid).toBe((outcome as ReconnectedEvent).cid);
  });

  it('a server restarted with the memory store: not resumed (epoch_changed), as a reconnect always was', async () => {
    const first = await server();
    const a = await connect(first, 'phoenix');
    await a.sb.joinRealtime({ group: 'ashes' });
    const mark = a.events.mark();
    await first.close();
    await a.events.waitFor((e) => e.type === 'error', mark);
    await server({}, first.port);
    const outcome = await a.events.waitFor(outcomeOf, mark);
    expect(outcome).toMatchObject({ resumed: false, reason: 'epoch_changed', previousCid: a.cid });
    await a.events.waitFor((e) => isNotice('USER_JOINED')(e) && e.type === 'notice' && e.sender_cid === a.sb.cid, mark);
  });
});
