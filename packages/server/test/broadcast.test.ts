import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { join, startServer, useCleanup } from './helpers.js';

useCleanup();
afterEach(() => vi.restoreAllMocks());

describe('send path', () => {
  it('serializes a group broadcast once; every member gets the shared bytes behind its own seq', async () => {
    const t = await startServer();
    const clients = [];
    for (const user of ['a', 'b', 'c', 'd']) {
      const c = await t.connect(user);
      await join(c, 'room');
      clients.push(c);
    }
    const sends: { data: unknown; server: boolean }[] = [];
    const original = WebSocket.prototype.send;
    vi.spyOn(WebSocket.prototype, 'send').mockImplementation(function (this: WebSocket, ...args: Parameters<WebSocket['send']>) {
      sends.push({ data: args[0], server: (this as unknown as { _isServer: boolean })._isServer });
      return original.apply(this, args);
    });
    const stringify = vi.spyOn(JSON, 'stringify');
    const reply = await clients[0]!.request({ type: 'post', to: 'room', message: { big: 'x'.repeat(1000) } });
    expect(reply.result).toEqual({ delivered: 4 });
    for (const c of clients) await c.waitFor('message');

    // A numbered frame goes to the socket as text (or bytes when it was encoded already).
    const text = (data: unknown): string | null => (typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString() : null);
    const broadcasts = sends.filter((s) => s.server && text(s.data)?.includes('"type":"message"')).map((s) => text(s.data)!);
    expect(broadcasts).toHaveLength(4);
    // Each copy is `{"seq":N,` + the one serialization without its `{` (resume/frame.ts).
    const tails = broadcasts.map((frame) => frame.slice(frame.indexOf(',') + 1));
    for (const tail of tails) expect(tail).toBe(tails[0]);
    for (const frame of broadcasts) expect(frame).toMatch(/^\{"seq":\d+,"type":"message"/);
    const serverStringifies = stringify.mock.calls.filter(([v]) => typeof v === 'object' && v !== null && (v as { type?: string }).type === 'message');
    expect(serverStringifies).toHaveLength(1);
  });
});
