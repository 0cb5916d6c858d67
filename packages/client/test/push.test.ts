/**
 * The SDK's Web Push functions (Skapi's names) against a real server and the push service
 * stand-in: the key, subscribe (a PushSubscription-like object, its JSON, or Skapi's
 * `endpoint, keys`), a post to the user while offline arrives decrypted, unsubscribe.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchboardError } from '@switchboard/protocol';
import { createServer, signToken, type SwitchboardServer } from '@switchboard/server';
import { startPushService, type PushServiceHandle } from '@switchboard/test-utils';
import { Switchboard } from '../src/node/index.js';

const SECRET = 'client-push-secret-0123456789abcdef';
let server: SwitchboardServer;
let url: string;
let service: PushServiceHandle;
let dataDir: string;

beforeAll(async () => {
  service = await startPushService();
  dataDir = mkdtempSync(join(tmpdir(), 'sb-push-'));
  server = createServer(
    { logLevel: 'silent', tls: { mode: 'off' }, auth: { secrets: [SECRET] }, dataDir, stun: { enabled: false }, push: { allowPrivateEndpoints: true } },
    { pushAgent: service.agent },
  );
  url = (await server.listen(0, '127.0.0.1')).url;
});
afterAll(async () => {
  await server?.close();
  await service?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const connect = async (user_id: string) => {
  const sb = new Switchboard({ url, token: await signToken([SECRET], { user_id }) });
  await sb.connectRealtime(() => {});
  return sb;
};

describe('vapidPublicKey, subscribeNotification, unsubscribeNotification', () => {
  it("answer with Skapi's shapes, and an offline user gets the post's notification as a push", async () => {
    const bob = await connect('bob');
    const { VAPIDPublicKey } = await bob.vapidPublicKey();
    expect(VAPIDPublicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
    const one = service.subscription();
    const two = service.subscription();
    const three = service.subscription();
    expect(await bob.subscribeNotification({ toJSON: () => one.json })).toBe('SUCCESS: Subscribed to receive notifications.');
    expect(await bob.subscribeNotification(two.json)).toBe('SUCCESS: Subscribed to receive notifications.');
    expect(await bob.subscribeNotification(three.json.endpoint, three.json.keys)).toBe('SUCCESS: Subscribed to receive notifications.');
    expect(await bob.unsubscribeNotification(three.json.endpoint, three.json.keys)).toBe('SUCCESS: Unsubscribed from notifications.');
    const bad = await bob.subscribeNotification({ ...one.json, endpoint: 'http://push.example.com/x' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(SwitchboardError);
    expect((bad as SwitchboardError).code).toBe('INVALID_PARAMETER');
    await bob.closeRealtime();

    const alice = await connect('alice');
    // bob's connection is gone once a plain post to bob finds nobody.
    for (let i = 0; ; i++) {
      const gone = await alice.postRealtime('ping', 'bob').then(
        () => false,
        () => true,
      );
      if (gone) break;
      expect(i).toBeLessThan(200);
    }
    expect(await alice.postRealtime({ text: 'hi' }, 'bob', { title: 'Alice', body: 'hi' })).toMatchObject({ type: 'success', delivered: 0 });
    const got = await service.waitFor(2);
    expect(got.map((p) => p.id).sort()).toEqual([one.id, two.id].sort());
    expect(got.map((p) => p.payload)).toEqual([
      { title: 'Alice', body: 'hi' },
      { title: 'Alice', body: 'hi' },
    ]);
    expect(got[0]!.vapid.publicKey).toBe(VAPIDPublicKey);
    await alice.closeRealtime();
    await expect(alice.vapidPublicKey()).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
  });
});
