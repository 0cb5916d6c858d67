/**
 * Push endpoints are requests the server makes for its users: by default none may reach a
 * loopback, private or link-local address (the stand-in push service listens on 127.0.0.1, so the
 * other push suites set push.allowPrivateEndpoints).
 */
import { get } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { startPushService } from '@switchboard/test-utils';
import { endpointRefusal, isPublicAddress, publicOnlyAgent } from '../../src/push/endpoint-guard.js';
import { startServer, useCleanup } from '../helpers.js';

useCleanup();
const later: (() => Promise<void>)[] = [];

describe('push endpoints: public addresses only, unless push.allowPrivateEndpoints', () => {
  afterEach(async () => {
    for (const fn of later.splice(0).reverse()) await fn();
  });

  it('refuses loopback, private, link-local, mapped and non-https endpoints; accepts public ones', () => {
    const refused = [
      'https://127.0.0.1/push/1',
      'https://127.9.9.9:8443/x',
      'https://10.1.2.3/x',
      'https://172.20.0.1/x',
      'https://192.168.1.1/x',
      'https://169.254.169.254/latest/meta-data',
      'https://100.64.0.1/x',
      'https://0.0.0.0/x',
      'https://[::1]/x',
      'https://[::ffff:127.0.0.1]/x',
      'https://[fd00::1]/x',
      'https://[fe80::1]/x',
      'https://localhost/x',
      'https://localhost./x',
      'https://push.localhost/x',
      'https://2130706433/x', // 127.0.0.1 as one number: URL normalises it
      'http://fcm.googleapis.com/fcm/send/x',
      'not a url',
    ];
    for (const endpoint of refused) expect(endpointRefusal(endpoint, false), endpoint).not.toBeNull();
    for (const endpoint of [
      'https://fcm.googleapis.com/fcm/send/abc',
      'https://updates.push.services.mozilla.com/wpush/v2/x',
      'https://8.8.8.8/x',
      'https://[2606:4700::1]/x',
    ])
      expect(endpointRefusal(endpoint, false), endpoint).toBeNull();
    expect(endpointRefusal('https://127.0.0.1/push/1', true)).toBeNull();
    expect(endpointRefusal('http://127.0.0.1/push/1', true)).toMatch(/https/);
    expect(isPublicAddress('93.184.215.14')).toBe(true);
    expect(isPublicAddress('not an address')).toBe(false);
  });

  it('a name that resolves to a non-public address fails at connect, before any byte is sent', async () => {
    const service = await startPushService();
    later.push(() => service.close());
    const agent = publicOnlyAgent({ ca: undefined });
    later.push(async () => agent.destroy());
    const port = new URL(service.origin).port;
    const error = await new Promise<Error>((resolve, reject) => {
      const req = get({ host: 'localhost', port, path: '/', agent }, () => reject(new Error('connected to localhost')));
      req.on('error', resolve);
    });
    expect(error.message).toMatch(/localhost resolves to (127\.0\.0\.1|::1), not a public address/);
    expect(service.received).toEqual([]);
  });

  it('by default a client subscribing a loopback endpoint gets INVALID_PARAMETER and nothing is stored or sent', async () => {
    const service = await startPushService();
    later.push(() => service.close());
    const t = await startServer({ push: { retryBaseMs: 10 } }, { pushAgent: service.agent });
    const bob = await t.connect('bob');
    const subscription = service.subscription().json;
    const reply = await bob.request({ type: 'push_subscribe', subscription });
    expect(reply).toMatchObject({ type: 'error', code: 'INVALID_PARAMETER' });
    expect(JSON.stringify(reply)).toMatch(/endpoint.*private, loopback or link-local/);
    expect(await bob.call({ type: 'push_unsubscribe', subscription: { endpoint: subscription.endpoint } })).toEqual({ removed: false });
  });
});
