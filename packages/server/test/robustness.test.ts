import { connect } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { join, startServer, useCleanup } from './helpers.js';

useCleanup();

function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.on('data', (d) => (out += d.toString()));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

describe('robustness', () => {
  it('answers unparseable request targets with 400 JSON (HTTP and upgrade) and keeps serving', async () => {
    const t = await startServer();
    const http = await rawRequest(t.address.port, 'GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(http).toMatch(/^HTTP\/1\.1 400/);
    expect(http).toContain('"code":"INVALID_REQUEST"');
    const upgrade = await rawRequest(
      t.address.port,
      'GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    expect(upgrade).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});

describe('fuzz', () => {
  it('random frames get exactly one reply per id, never crash the server, and send no errors to another client', async () => {
    const t = await startServer({ limits: { maxViolations: 100_000, messagesPerSecond: 100_000, messageBurst: 100_000 } });
    const fuzzer = await t.connect('fuzzer');
    const bystander = await t.connect('bystander');
    const bystanderCid = (await bystander.welcome).cid;
    await join(bystander, 'room');
    // Every request type carries an id here; `ping` is left out: a valid one is answered by an id-less pong.
    const types = ['join', 'post', 'list_users', 'list_groups', 'rtc', 'ice', 'nope'];
    const value = fc.oneof(
      fc.constantFrom(...types),
      fc.string({ maxLength: 20 }),
      fc.integer(),
      fc.constant(null),
      fc.boolean(),
      fc.constant(bystanderCid),
      fc.constant('room'),
      fc.dictionary(fc.constantFrom('kind', 'type', 'sdp', 'candidate'), fc.constantFrom('invite', 'accept', 'offer', 'x', null)),
    );
    const frame = fc.record(
      {
        type: fc.constantFrom(...types),
        group: value,
        to: value,
        message: value,
        signal: value,
        call: value,
        searchFor: value,
        value,
        limit: value,
        startKey: value,
      },
      { requiredKeys: ['type'] },
    );
    const samples = fc.sample(frame, { numRuns: 300, seed: 42 });
    let id = 1_000;
    const ids: number[] = [];
    for (const f of samples) {
      ids.push(id);
      fuzzer.send({ ...f, id: id++ });
    }
    fuzzer.send('not json at all');
    for (const requestId of ids) {
      await fuzzer.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.id === requestId, 5000);
    }
    await fuzzer.sync();
    expect(fuzzer.all((f) => (f.type === 'ack' || f.type === 'error') && ids.includes(f.id))).toHaveLength(ids.length);
    expect(fuzzer.ws.readyState).toBe(WebSocket.OPEN);
    expect((await bystander.call({ type: 'list_users' })).list.map((r: { user_id: string }) => r.user_id)).toContain('bystander');
    expect(bystander.all('error')).toHaveLength(0);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});
