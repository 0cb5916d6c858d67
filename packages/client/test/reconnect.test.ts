import { afterEach, describe, expect, it } from 'vitest';
import { SwitchboardError } from '@switchboard/protocol';
import { nodePlatform, Switchboard } from '../src/node/index.js';
import { switchboardInternals } from '../src/switchboard.js';
import { isNotice, Recorder } from './recorder.js';
import { startServer, until, type TestServer } from './server.js';

const fast = { baseDelayMs: 10, maxDelayMs: 50 };
/** Reconnects as new connections (resume is covered by resume.test.ts). */
const noResume = { resume: { windowMs: 0 } };
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

async function connect(target: TestServer, user_id: string, options: { reconnect?: object | false } = {}) {
  const sb = new Switchboard({ url: target.url, token: () => target.token(user_id), reconnect: fast, ...options });
  clients.push(sb);
  const events = new Recorder();
  const { cid } = await sb.connectRealtime(events.cb);
  return { sb, events, cid };
}

describe('reconnect', () => {
  it('after the server drops the socket (resume off): error, reconnect, success, and the group is re-joined', async () => {
    const srv = await server(noResume);
    const a = await connect(srv, 'ann');
    const b = await connect(srv, 'bob');
    await a.sb.joinRealtime({ group: 'team' });
    await b.sb.joinRealtime({ group: 'team' });
    await a.events.waitFor(isNotice('USER_JOINED', b.cid));
    const mark = a.events.mark();
    const bMark = b.events.mark();

    srv.dropAll(); // both sockets die without a close frame

    const unexpected = await a.events.waitFor((e) => e.type === 'error', mark);
    expect(unexpected).toMatchObject({ type: 'error', message: 'Skapi: WebSocket unexpected close.', closeCode: 1006 });
    const reconnect = await a.events.waitFor((e) => e.type === 'reconnect', mark);
    expect(reconnect).toMatchObject({ message: 'Reconnecting to WebSocket server...1', attempt: 1 });
    expect((reconnect as { delayMs: number }).delayMs).toBeGreaterThanOrEqual(0);
    expect((reconnect as { delayMs: number }).delayMs).toBeLessThan(fast.baseDelayMs);
    await a.events.waitFor((e) => e.type === 'success', mark);

    // Both come back with new cids and re-join "team" (in either order).
    await a.events.waitFor((e) => e.type === 'notice' && e.code === 'USER_JOINED' && e.sender_cid === a.sb.cid, mark);
    await b.events.waitFor((e) => e.type === 'notice' && e.code === 'USER_JOINED' && e.sender_cid === b.sb.cid, bMark);
    expect(b.sb.cid).not.toBe(b.cid);
    expect((await a.sb.getRealtimeUsers()).list.map((row) => row.cid).sort()).toEqual([a.sb.cid, b.sb.cid].sort());
    expect((await a.sb.postRealtime('after', 'team')).delivered).toBe(2);
    await b.events.waitFor((e) => e.type === 'message' && e.message === 'after');
    expect(a.events.of('success')).toHaveLength(2);
    // connectRealtime() again is still idempotent, and answers with the live cid, not the first one.
    expect((await a.sb.connectRealtime(() => {})).cid).toBe(a.sb.cid);
  });

  it('queues requests while reconnecting and sends them after the re-join (resume off)', async () => {
    const srv = await server(noResume);
    const a = await connect(srv, 'queue-a');
    await a.sb.joinRealtime({ group: 'q' });
    const mark = a.events.mark();
    srv.dropAll();
    await a.events.waitFor((e) => e.type === 'error', mark);
    expect(a.sb.connectionState).toBe('reconnecting');
    // Posting to the group only works once the group is re-joined (the server would answer
    // INVALID_REQUEST otherwise): the queue waits for the re-join, then flushes in order.
    const posted = a.sb.postRealtime({ queued: true }, 'q');
    const listed = a.sb.getRealtimeUsers();
    expect(await posted).toEqual({ type: 'success', message: 'Message sent.', delivered: 1 });
    const echo = await a.events.waitFor((e) => e.type === 'message', mark);
    expect(echo).toMatchObject({ message: { queued: true }, sender_cid: a.sb.cid, sender_rid: 'q' });
    expect((await listed).list).toEqual([{ user_id: 'queue-a', cid: a.sb.cid }]);
    // Order on the wire: re-join notice, then the queued post.
    const after = a.events.events.slice(mark).map((e) => e.type);
    expect(after.indexOf('notice')).toBeLessThan(after.indexOf('message'));
  });

  it('graceful shutdown and a restart on the same port: reconnects (4000) to the new server', async () => {
    const first = await server();
    const a = await connect(first, 'restart');
    await a.sb.joinRealtime({ group: 'survivors' });
    const mark = a.events.mark();
    await first.close();
    const unexpected = await a.events.waitFor((e) => e.type === 'error', mark);
    expect(unexpected).toMatchObject({ message: 'Skapi: WebSocket unexpected close.', closeCode: 4000 });
    await a.events.waitFor((e) => e.type === 'reconnect', mark);

    const second = await server({}, first.port);
    await a.events.waitFor((e) => e.type === 'success', mark);
    await a.events.waitFor((e) => isNotice('USER_JOINED')(e) && e.type === 'notice' && e.sender_rid === 'survivors', mark);
    expect(second.server.connectionCount()).toBe(1);
    expect((await a.sb.getRealtimeUsers()).list).toEqual([{ user_id: 'restart', cid: a.sb.cid }]);
  });

  it('gives up after maxAttempts with Skapi\'s "Max reconnection attempts reached."', async () => {
    const srv = await server();
    const a = await connect(srv, 'quitter', { reconnect: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 } });
    const mark = a.events.mark();
    await srv.close();
    await a.events.waitFor((e) => e.type === 'error' && e.message === 'Skapi: Max reconnection attempts reached.', mark);
    expect(a.events.of('reconnect', mark).map((e) => e.message)).toEqual(['Reconnecting to WebSocket server...1', 'Reconnecting to WebSocket server...2']);
    expect(a.sb.connectionState).toBe('closed');
    await expect(a.sb.postRealtime('x', 'quitter')).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('a terminal close code (4500) stops reconnecting and reports the code; requests sent before are answered', async () => {
    // The SDK never sends invalid frames: write some on its socket, so the server closes it with 4500.
    const srv = await server({ limits: { maxViolations: 2 } });
    const a = await connect(srv, 'abuser');
    const mark = a.events.mark();
    const post = a.sb.postRealtime('sent before the junk', 'abuser');
    const transport = (switchboardInternals(a.sb).session as unknown as { transport: { send(text: string): boolean } }).transport;
    for (let i = 0; i < 3; i++) transport.send('junk');
    const closed = await a.events.waitFor((e) => e.type === 'error' && e.closeCode === 4500, mark);
    expect(closed).toMatchObject({ error: expect.any(SwitchboardError) });
    expect(await post).toMatchObject({ type: 'success', delivered: 1 });
    expect(a.sb.connectionState).toBe('closed');
    expect(a.events.of('reconnect', mark)).toHaveLength(0);
  });

  it('an honest loop beyond the burst (150 posts, default limits) is paced, not closed', async () => {
    const srv = await server({ limits: { maxViolations: 2 } });
    const a = await connect(srv, 'looper');
    const mark = a.events.mark();
    const results = await Promise.all(Array.from({ length: 150 }, (_, i) => a.sb.postRealtime(i, 'looper')));
    expect(results.every((r) => r.type === 'success')).toBe(true);
    await a.events.waitFor(() => a.events.of('private', mark).length === 150, mark);
    expect(a.events.of('private', mark).map((e) => e.message)).toEqual([...Array(150).keys()]);
    expect(a.sb.connectionState).toBe('open');
    expect(a.events.of('reconnect', mark)).toHaveLength(0);
  });

  it('TOKEN_EXPIRED (4004) while connected: reconnects with a fresh token from the function', async () => {
    const srv = await server();
    let issued = 0;
    const sb = new Switchboard({
      url: srv.url,
      reconnect: fast,
      token: async () => {
        issued += 1;
        return srv.server.issueToken({ user_id: 'short', ttlSeconds: issued === 1 ? 1 : 3600 });
      },
    });
    clients.push(sb);
    const events = new Recorder();
    await sb.connectRealtime(events.cb);
    const closed = await events.waitFor((e) => e.type === 'error', 0, 5_000);
    expect(closed).toMatchObject({ message: 'Skapi: WebSocket unexpected close.', closeCode: 4004 });
    await events.waitFor((e) => e.type === 'success', events.events.indexOf(closed));
    expect(issued).toBe(2);
  });
});

describe('closeRealtime', () => {
  it('leaves the group before closing: the others see USER_LEFT, never USER_DISCONNECTED', async () => {
    const srv = await server();
    const a = await connect(srv, 'stay');
    const b = await connect(srv, 'go');
    await a.sb.joinRealtime({ group: 'hall' });
    await b.sb.joinRealtime({ group: 'hall' });
    await a.events.waitFor(isNotice('USER_JOINED', b.cid));
    await b.sb.closeRealtime();
    expect(b.events.events.at(-1)).toEqual({ type: 'close', message: 'WebSocket connection closed.' });
    expect(b.events.of('close')).toHaveLength(1);
    expect(b.sb.connectionState).toBe('closed');
    expect(b.sb.cid).toBeNull();
    await a.events.waitFor(isNotice('USER_LEFT', b.cid));
    await until(() => srv.server.connectionCount() === 1, 5_000, 'b gone');
    // a sync point after b's disconnect has been processed
    await a.sb.postRealtime('sync', 'hall');
    await a.events.waitFor((e) => e.type === 'message' && e.message === 'sync');
    expect(a.events.count(isNotice('USER_DISCONNECTED'))).toBe(0);
    // The API says so afterwards; a second close is a no-op; connectRealtime opens a new connection.
    await expect(b.sb.postRealtime('x', 'hall')).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'No realtime connection. Execute connectRealtime() before this method.',
    });
    await b.sb.closeRealtime();
    expect(b.events.of('close')).toHaveLength(1);
    const again = await b.sb.connectRealtime(b.events.cb);
    expect(again.cid).not.toBe(b.cid);
  });

  it('an abrupt disconnect shows as USER_DISCONNECTED (at once with resume off)', async () => {
    const srv = await server(noResume);
    const a = await connect(srv, 'watcher');
    let raw: { terminate(): void } | null = null;
    const Base = nodePlatform().WebSocket;
    const Capturing = class extends Base {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        raw = this as unknown as { terminate(): void };
      }
    };
    const b = new Switchboard({ url: srv.url, token: await srv.token('crasher'), reconnect: false, platform: { WebSocket: Capturing } });
    clients.push(b);
    const bEvents = new Recorder();
    const { cid: bCid } = await b.connectRealtime(bEvents.cb);
    await a.sb.joinRealtime({ group: 'crash' });
    await b.joinRealtime({ group: 'crash' });
    raw!.terminate(); // like a crashed tab: no leave, no close frame
    await a.events.waitFor(isNotice('USER_DISCONNECTED', bCid));
    expect(a.events.count(isNotice('USER_LEFT'))).toBe(0);
    expect(bEvents.of('error').map((e) => e.message)).toContain('Skapi: WebSocket unexpected close.');
    expect(bEvents.of('reconnect')).toHaveLength(0);
    expect(b.connectionState).toBe('closed');
  });

  it('closeRealtime while reconnecting stops the attempts and emits close', async () => {
    const srv = await server();
    const a = await connect(srv, 'impatient');
    const mark = a.events.mark();
    await srv.close();
    await a.events.waitFor((e) => e.type === 'reconnect', mark);
    await a.sb.closeRealtime();
    expect(a.sb.connectionState).toBe('closed');
    expect(a.events.events.at(-1)).toEqual({ type: 'close', message: 'WebSocket connection closed.' });
  });
});

describe('two instances in one process', () => {
  it('do not share state: groups, callbacks, closing', async () => {
    const srv = await server();
    const one = await connect(srv, 'twin');
    const two = await connect(srv, 'twin');
    expect(one.cid).not.toBe(two.cid);
    await one.sb.joinRealtime({ group: 'g-one' });
    await two.sb.joinRealtime({ group: 'g-two' });
    await one.sb.postRealtime('for one', 'g-one');
    await two.sb.postRealtime('for two', 'g-two');
    await one.events.waitFor((e) => e.type === 'message' && e.message === 'for one');
    await two.events.waitFor((e) => e.type === 'message' && e.message === 'for two');
    expect(one.events.count((e) => e.type === 'message' && e.message === 'for two')).toBe(0);
    expect(two.events.count((e) => e.type === 'message' && e.message === 'for one')).toBe(0);
    // Default group of each listing is its own.
    expect((await one.sb.getRealtimeUsers()).list).toEqual([{ user_id: 'twin', cid: one.cid }]);
    expect((await two.sb.getRealtimeUsers()).list).toEqual([{ user_id: 'twin', cid: two.cid }]);
    await one.sb.closeRealtime();
    expect(two.sb.connectionState).toBe('open');
    expect((await two.sb.postRealtime('still here', 'g-two')).delivered).toBe(1);
    expect(two.events.of('close')).toHaveLength(0);
  });
});
