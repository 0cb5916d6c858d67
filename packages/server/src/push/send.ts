/**
 * One push to one subscription with web-push: the payload encrypted for the subscription
 * (aes128gcm, RFC 8291) and signed with the VAPID pair it was made for (RFC 8292). The push
 * service's answer decides what happens next: 2xx sent; 404/410 the subscription is gone; 429,
 * 5xx, a timeout or a network error are worth a retry; any other status is a permanent failure. An
 * endpoint that is, or resolves to, a non-public address is gone (endpoint-guard.ts).
 */
import type { Agent } from 'node:https';
import { webPushLib } from '../optional-libs.js';
import { endpointRefusal, PrivateAddressError } from './endpoint-guard.js';
import type { Keyring } from './vapid.js';
import type { StoredSubscription } from './types.js';

export type SendOutcome = 'sent' | 'gone' | 'retry' | 'failed';

export interface SendSettings {
  subject: string;
  ttlSeconds: number;
  timeoutMs: number;
  /** An https.Agent for the push services (e.g. one that trusts a private CA). */
  agent?: Agent | undefined;
  allowPrivateEndpoints: boolean;
}

export function createSender(settings: SendSettings, keyring: Keyring) {
  return async function send(subscription: StoredSubscription, payload: string): Promise<{ outcome: SendOutcome; status: number | null }> {
    const pair = await keyring.pairFor(subscription.vapid);
    // A key rotated out of config: the push service would refuse every push to this subscription.
    if (!pair) return { outcome: 'gone', status: null };
    // Stored under a node that allowed private endpoints, or before this check: never sent here.
    if (endpointRefusal(subscription.endpoint, settings.allowPrivateEndpoints)) return { outcome: 'gone', status: null };
    const webpush = webPushLib();
    try {
      const res = await webpush.sendNotification({ endpoint: subscription.endpoint, keys: subscription.keys }, payload, {
        vapidDetails: { subject: settings.subject, publicKey: pair.publicKey, privateKey: pair.privateKey },
        TTL: settings.ttlSeconds,
        timeout: settings.timeoutMs,
        contentEncoding: 'aes128gcm',
        urgency: 'high',
        ...(settings.agent ? { agent: settings.agent } : {}),
      });
      return { outcome: 'sent', status: res.statusCode };
    } catch (err) {
      if (err instanceof PrivateAddressError) return { outcome: 'gone', status: null };
      const status = err instanceof webpush.WebPushError ? err.statusCode : null;
      if (status === 404 || status === 410) return { outcome: 'gone', status };
      if (status === null || status === 429 || status >= 500) return { outcome: 'retry', status };
      return { outcome: 'failed', status };
    }
  };
}
