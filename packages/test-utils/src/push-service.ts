/**
 * A local push service stand-in (RFC 8030) over HTTPS on loopback: `POST /push/<id>` answers
 * 201 after checking the VAPID header and decrypting the payload with the subscription's private
 * key; it can be told to answer another status, or be down (its port closed) and up again.
 * Servers under test reach it through `agent` (it trusts the stand-in's self-signed certificate).
 */
import { Agent, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { decryptPush, subscriptionKeys, verifyVapid, type SubscriptionKeys, type VapidClaims } from './push-crypto.js';

export interface TestSubscription {
  id: string;
  /** What the SDK's subscribeNotification() takes (PushSubscription.toJSON()). */
  json: { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
  keys: SubscriptionKeys;
}

export interface ReceivedPush {
  id: string;
  /** The decrypted payload, parsed as JSON. */
  payload: unknown;
  vapid: VapidClaims;
  ttl: number;
  urgency: string | null;
}

export interface PushServiceHandle {
  /** https://127.0.0.1:<port> */
  origin: string;
  /** An https.Agent that trusts the stand-in (createServer's runtime.pushAgent). */
  agent: Agent;
  subscription(): TestSubscription;
  /** Every push accepted (201), in order. */
  received: ReceivedPush[];
  /** Requests that failed a check (bad VAPID, undecryptable): each one is a bug in the sender. */
  rejected: string[];
  /** Requests seen per subscription id, whatever the answer. */
  attempts: Map<string, number>;
  /** From now on, answer `status` (201: accept again) to this subscription, or to all (id omitted). */
  respond(status: number, id?: string): void;
  /** Resolves when `count` pushes in all have been accepted. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedPush[]>;
  /** Closes the port (connections are refused) / opens it again on the same port. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startPushService(): Promise<PushServiceHandle> {
  const pems = await generate([{ name: 'commonName', value: 'push stand-in' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const subs = new Map<string, TestSubscription>();
  const statusFor = new Map<string, number>();
  let statusAll = 201;
  const received: ReceivedPush[] = [];
  const rejected: string[] = [];
  const attempts = new Map<string, number>();
  let waiters: (() => void)[] = [];
  let port = 0;
  let origin = '';
  let next = 0;

  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = /^\/push\/([\w-]+)$/.exec(req.url ?? '')?.[1] ?? '';
      attempts.set(id, (attempts.get(id) ?? 0) + 1);
      const sub = subs.get(id);
      const status = statusFor.get(id) ?? statusAll;
      if (req.method !== 'POST' || !sub) return void res.writeHead(404).end();
      if (status !== 201) return void res.writeHead(status).end(`told to answer ${status}`);
      try {
        if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error(`content-encoding ${req.headers['content-encoding']}`);
        const vapid = verifyVapid(req.headers.authorization, origin);
        const payload: unknown = JSON.parse(decryptPush(Buffer.concat(chunks), sub.keys).toString('utf8'));
        const urgency = req.headers['urgency'];
        received.push({ id, payload, vapid, ttl: Number(req.headers['ttl']), urgency: typeof urgency === 'string' ? urgency : null });
      } catch (err) {
        rejected.push(`${id}: ${(err as Error).message}`);
        return void res.writeHead(400).end((err as Error).message);
      }
      res.writeHead(201, { location: `${origin}/message/${received.length}` }).end();
      for (const wake of waiters.splice(0)) wake();
    });
  };

  let server: Server = createServer({ cert: pems.cert, key: pems.private }, handler);
  const listen = (s: Server, p: number) =>
    new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => resolve());
    });
  await listen(server, 0);
  port = (server.address() as AddressInfo).port;
  origin = `https://127.0.0.1:${port}`;
  const shut = (s: Server) =>
    new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });

  return {
    origin,
    agent: new Agent({ ca: pems.cert, keepAlive: false }),
    subscription() {
      const id = `s${++next}`;
      const keys = subscriptionKeys();
      const sub: TestSubscription = {
        id,
        keys,
        json: { endpoint: `${origin}/push/${id}`, expirationTime: null, keys: { p256dh: keys.p256dh, auth: keys.auth } },
      };
      subs.set(id, sub);
      return sub;
    },
    received,
    rejected,
    attempts,
    respond(status, id) {
      if (id === undefined) {
        statusAll = status;
        statusFor.clear();
      } else statusFor.set(id, status);
    },
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`push stand-in: ${received.length} of ${count} pushes after ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          if (received.length >= count) {
            clearTimeout(timer);
            resolve(received.slice());
          } else waiters.push(check);
        };
        check();
      });
    },
    down: () => shut(server),
    async up() {
      server = createServer({ cert: pems.cert, key: pems.private }, handler);
      await listen(server, port);
    },
    async close() {
      waiters = [];
      if (server.listening) await shut(server);
    },
  };
}
