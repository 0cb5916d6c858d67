/**
 * The server's own STUN responder: the codec against RFC 5769's vectors, a real Binding over
 * UDP, garbage and non-Binding requests, the per-address rate limit, the metric, the stun: URL
 * in the ICE servers, and a bind failure as one line naming the setting.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, createServer, StartupError } from '../src/index.js';
import { bindingSuccess, encodeAddress, errorResponse, fingerprint, MAX_RESPONSE_BYTES, parseRequest } from '../src/stun/codec.js';
import { AddressBuckets, addressKey } from '../src/stun/rate-limit.js';
import { startServer, tempDir, useCleanup, type TestServer } from './helpers.js';

useCleanup();

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
// RFC 5769 §2.1–2.3 (the same transaction id throughout).
const TX = hex('b7e7a701 bc34d686 fa87dfae');
const SAMPLE_REQUEST = hex(`
  00010058 2112a442 b7e7a701 bc34d686 fa87dfae
  80220010 5354554e 20746573 7420636c 69656e74
  00240004 6e0001ff
  80290008 932ff9b1 51263b36
  00060009 6576746a 3a683676 59202020
  00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2
  80280004 e57a3bcf`);
const SAMPLE_RESPONSE_V4 = hex(`
  0101003c 2112a442 b7e7a701 bc34d686 fa87dfae
  8022000b 74657374 20766563 746f7220
  00200008 0001a147 e112a643
  00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7
  80280004 c07d4c96`);
const SAMPLE_RESPONSE_V6 = hex(`
  01010048 2112a442 b7e7a701 bc34d686 fa87dfae
  8022000b 74657374 20766563 746f7220
  00200014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9
  00080014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41
  80280004 c8fb0b4c`);

/** The attributes of a message, by type. */
function attributes(msg: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let at = 20; at + 4 <= msg.length;) {
    const type = msg.readUInt16BE(at);
    const len = msg.readUInt16BE(at + 2);
    out.set(type, msg.subarray(at + 4, at + 4 + len));
    at += 4 + len + ((4 - (len % 4)) % 4);
  }
  return out;
}

function bindingRequest(tx = randomBytes(12), extra: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt16BE(0x0001, 0);
  head.writeUInt16BE(extra.length, 2);
  head.writeUInt32BE(0x2112a442, 4);
  tx.copy(head, 8);
  return Buffer.concat([head, extra]);
}

describe('STUN codec (RFC 5769 vectors)', () => {
  it('FINGERPRINT matches the sample request and both sample responses', () => {
    for (const msg of [SAMPLE_REQUEST, SAMPLE_RESPONSE_V4, SAMPLE_RESPONSE_V6]) {
      expect(fingerprint(msg.subarray(0, msg.length - 8))).toBe(msg.readUInt32BE(msg.length - 4));
    }
  });

  it('XOR-MAPPED-ADDRESS encodes 192.0.2.1:32853 and 2001:db8:1234:5678:11:2233:4455:6677:32853 as the samples do', () => {
    expect(encodeAddress('192.0.2.1', 32853, TX, true)).toEqual(attributes(SAMPLE_RESPONSE_V4).get(0x0020));
    expect(encodeAddress('2001:db8:1234:5678:11:2233:4455:6677', 32853, TX, true)).toEqual(attributes(SAMPLE_RESPONSE_V6).get(0x0020));
    expect(encodeAddress('::ffff:192.0.2.1', 32853, TX, true)).toEqual(attributes(SAMPLE_RESPONSE_V4).get(0x0020));
    expect(encodeAddress('192.0.2.1', 32853, TX, false)).toEqual(hex('0001 8055 c0000201'));
  });

  it('reads the ICE sample request (SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MESSAGE-INTEGRITY) as a Binding', () => {
    expect(parseRequest(SAMPLE_REQUEST)).toEqual({ kind: 'binding', transactionId: TX });
  });

  it('answers with XOR-MAPPED-ADDRESS, MAPPED-ADDRESS and a valid FINGERPRINT, within the size bound', () => {
    for (const [address, family] of [
      ['192.0.2.1', 1],
      ['2001:db8:1234:5678:11:2233:4455:6677', 2],
    ] as const) {
      const out = bindingSuccess(TX, address, 32853);
      expect(out.readUInt16BE(0)).toBe(0x0101);
      expect(out.readUInt16BE(2)).toBe(out.length - 20);
      expect(out.subarray(8, 20)).toEqual(TX);
      const attrs = attributes(out);
      expect([...attrs.keys()]).toEqual([0x0020, 0x0001, 0x8028]);
      expect(attrs.get(0x0020)).toEqual(encodeAddress(address, 32853, TX, true));
      expect(attrs.get(0x0001)![1]).toBe(family);
      expect(attrs.get(0x8028)!.readUInt32BE(0)).toBe(fingerprint(out.subarray(0, out.length - 8)));
      expect(out.length).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    }
  });

  it('ignores responses, indications, RFC 3489 messages, bad lengths, a wrong FINGERPRINT, truncated attributes', () => {
    const good = bindingRequest(TX);
    expect(parseRequest(good)).toEqual({ kind: 'binding', transactionId: TX });
    const mutate = (f: (b: Buffer) => void, base = good) => {
      const b = Buffer.from(base);
      f(b);
      return b;
    };
    expect(parseRequest(SAMPLE_RESPONSE_V4)).toBeNull();
    expect(parseRequest(mutate((b) => b.writeUInt16BE(0x0011, 0)))).toBeNull(); // Binding indication
    expect(parseRequest(mutate((b) => b.writeUInt32BE(0, 4)))).toBeNull(); // no magic cookie
    expect(parseRequest(mutate((b) => b.writeUInt16BE(4, 2)))).toBeNull(); // length beyond the datagram
    expect(parseRequest(good.subarray(0, 19))).toBeNull();
    expect(parseRequest(Buffer.concat([good, Buffer.alloc(4)]))).toBeNull(); // trailing bytes
    expect(
      parseRequest(
        mutate((b) => {
          const last = b.length - 1;
          b[last] = b[last]! ^ 1;
        }, SAMPLE_REQUEST),
      ),
    ).toBeNull(); // FINGERPRINT
    expect(parseRequest(bindingRequest(TX, hex('00060010 61626364')))).toBeNull(); // attribute longer than the message
    expect(parseRequest(Buffer.alloc(2000))).toBeNull();
  });

  it('other methods get 400, unknown comprehension-required attributes 420 with UNKNOWN-ATTRIBUTES', () => {
    const allocate = mutate(bindingRequest(TX), (b) => b.writeUInt16BE(0x0003, 0));
    const parsed = parseRequest(allocate);
    expect(parsed).toEqual({ kind: 'unsupported-method', method: 3, transactionId: TX });
    const e400 = errorResponse(parsed as Exclude<typeof parsed, null | { kind: 'binding' }>);
    expect(e400.readUInt16BE(0)).toBe(0x0113);
    expect(attributes(e400).get(0x0009)!.subarray(2, 4)).toEqual(Buffer.from([4, 0]));

    const changeRequest = parseRequest(bindingRequest(TX, hex('00030004 00000006')));
    expect(changeRequest).toEqual({ kind: 'unknown-attributes', method: 1, transactionId: TX, types: [0x0003] });
    const e420 = errorResponse(changeRequest as Exclude<typeof changeRequest, null | { kind: 'binding' }>);
    expect(e420.readUInt16BE(0)).toBe(0x0111);
    expect(attributes(e420).get(0x0009)!.subarray(2, 4)).toEqual(Buffer.from([4, 20]));
    expect(attributes(e420).get(0x000a)).toEqual(hex('0003'));
    expect(e420.length).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    // Optional (>= 0x8000) unknown attributes are fine.
    expect(parseRequest(bindingRequest(TX, hex('80ff0004 00000000')))?.kind).toBe('binding');
  });
});

function mutate(buf: Buffer, f: (b: Buffer) => void): Buffer {
  const b = Buffer.from(buf);
  f(b);
  return b;
}

async function udpClient(address = '127.0.0.1'): Promise<Socket & { nextMessage(ms?: number): Promise<Buffer | null> }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const queue: Buffer[] = [];
  let waiter: ((b: Buffer) => void) | null = null;
  socket.on('message', (msg) => (waiter ? waiter(msg) : queue.push(msg)));
  return Object.assign(socket, {
    nextMessage(ms = 2000): Promise<Buffer | null> {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise<Buffer | null>((resolve) => {
        const timer = setTimeout(() => {
          waiter = null;
          resolve(null);
        }, ms);
        waiter = (b) => {
          clearTimeout(timer);
          waiter = null;
          resolve(b);
        };
      });
    },
  });
}

async function stunServer(overrides: Parameters<typeof startServer>[0] = {}): Promise<TestServer & { stunPort: number }> {
  const t = await startServer({ stun: { enabled: true }, ...overrides });
  expect(t.address.stunPort).toBeGreaterThan(0);
  return { ...t, stunPort: t.address.stunPort! };
}

async function metric(t: TestServer, result: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  return Number(new RegExp(`^switchboard_stun_requests_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

describe('STUN responder on UDP', () => {
  it("answers a Binding request with the client's own address and port (XOR-MAPPED-ADDRESS)", async () => {
    const t = await stunServer();
    const client = await udpClient();
    try {
      const tx = randomBytes(12);
      client.send(bindingRequest(tx), t.stunPort, '127.0.0.1');
      const answer = await client.nextMessage();
      expect(answer).not.toBeNull();
      expect(answer!.readUInt16BE(0)).toBe(0x0101);
      expect(answer!.subarray(8, 20)).toEqual(tx);
      const { port } = client.address();
      expect(attributes(answer!).get(0x0020)).toEqual(encodeAddress('127.0.0.1', port, tx, true));
      expect(attributes(answer!).get(0x0001)).toEqual(encodeAddress('127.0.0.1', port, tx, false));
      expect(await metric(t, 'answered')).toBe(1);
    } finally {
      client.close();
    }
  });

  it("over IPv6 too: XOR-MAPPED-ADDRESS carries the client's IPv6 address, and the URL is bracketed", async () => {
    const t = await stunServer({ stun: { enabled: true, host: '::1' } });
    const client = createSocket('udp6');
    await new Promise<void>((resolve) => client.bind(0, '::1', resolve));
    try {
      const tx = randomBytes(12);
      const answer = new Promise<Buffer>((resolve) => client.once('message', resolve));
      client.send(bindingRequest(tx), t.stunPort, '::1');
      const attrs = attributes(await answer);
      expect(attrs.get(0x0020)).toEqual(encodeAddress('::1', client.address().port, tx, true));
      expect(attrs.get(0x0020)![1]).toBe(0x02);
      expect((await (await t.connect('v6')).welcome).iceServers).toEqual([{ urls: [`stun:[::1]:${t.stunPort}`] }]);
    } finally {
      client.close();
    }
  });

  it('drops garbage without a crash or a log line, then still answers', async () => {
    const lines: string[] = [];
    const logger = createLogger(
      'trace',
      new Writable({
        write(chunk, _e, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    const t = await startServer({ stun: { enabled: true } }, { logger });
    const port = t.address.stunPort!;
    const client = await udpClient();
    try {
      const junk = [
        Buffer.alloc(0),
        Buffer.from('GET / HTTP/1.1\r\n\r\n'),
        randomBytes(20),
        randomBytes(1400),
        SAMPLE_RESPONSE_V4,
        mutate(bindingRequest(), (b) => b.writeUInt16BE(0xffff, 2)),
        bindingRequest(randomBytes(12), hex('0006ffff')),
      ];
      for (let i = 0; i < 200; i++) junk.push(randomBytes(1 + (i % 120)));
      const before = lines.length;
      for (const j of junk) client.send(j, port, '127.0.0.1');
      client.send(bindingRequest(), port, '127.0.0.1');
      const answer = await client.nextMessage();
      expect(answer?.readUInt16BE(0)).toBe(0x0101);
      expect(await client.nextMessage(200)).toBeNull(); // nothing answered the junk
      expect(lines.slice(before).filter((l) => /stun/i.test(l))).toEqual([]);
      expect(await metric(t, 'ignored')).toBe(junk.length);
    } finally {
      client.close();
    }
  });

  it('a TURN Allocate gets 400 at once instead of silence', async () => {
    const t = await stunServer();
    const client = await udpClient();
    try {
      client.send(
        mutate(bindingRequest(), (b) => b.writeUInt16BE(0x0003, 0)),
        t.stunPort,
        '127.0.0.1',
      );
      const answer = await client.nextMessage();
      expect(answer?.readUInt16BE(0)).toBe(0x0113);
      expect(await metric(t, 'error')).toBe(1);
    } finally {
      client.close();
    }
  });

  it('rate-limits per source address: a flood gets the burst answered, the rest dropped; other addresses still served', async () => {
    const t = await stunServer({ stun: { enabled: true, perAddressPerSecond: 5 } });
    const flood = await udpClient();
    const other = await udpClient('127.0.0.2');
    try {
      for (let i = 0; i < 100; i++) flood.send(bindingRequest(), t.stunPort, '127.0.0.1');
      let answered = 0;
      while (await flood.nextMessage(300)) answered++;
      // Burst 10, plus what refilled at 5/s while the flood was being sent.
      expect(answered).toBeGreaterThanOrEqual(10);
      expect(answered).toBeLessThanOrEqual(15);
      expect(await metric(t, 'rate_limited')).toBe(100 - answered);
      other.send(bindingRequest(), t.stunPort, '127.0.0.1');
      expect((await other.nextMessage())?.readUInt16BE(0)).toBe(0x0101);
    } finally {
      flood.close();
      other.close();
    }
  });

  it("the ICE servers (welcome and GET /v1/ice) carry the server's own stun: URL first", async () => {
    const t = await stunServer({ ice: { stun: ['stun:stun.example.com:3478'] } });
    const own = `stun:127.0.0.1:${t.stunPort}`;
    const a = await t.connect('alice');
    expect((await a.welcome).iceServers).toEqual([{ urls: [own, 'stun:stun.example.com:3478'] }]);
    const ice = await fetch(`${t.url}/v1/ice`, { headers: { Authorization: `Bearer ${await t.token('alice')}` } });
    expect(((await ice.json()) as { iceServers: unknown }).iceServers).toEqual([{ urls: [own, 'stun:stun.example.com:3478'] }]);
  });

  it("on every interface: the URL names the address the client came in on (or publicUrl's host), never the Host header", async () => {
    const server = createServer({
      host: '0.0.0.0',
      tls: { mode: 'off' },
      auth: { secrets: ['test-secret-0123456789abcdef'] },
      logLevel: 'silent',
      dataDir: tempDir(),
    });
    const address = await server.listen(0, '0.0.0.0');
    try {
      const token = await server.issueToken({ user_id: 'bob' });
      for (const ip of ['127.0.0.1', '127.0.0.3']) {
        const body = await new Promise<string>((resolve, reject) => {
          get({ host: ip, port: address.port, path: '/v1/ice', headers: { Authorization: `Bearer ${token}`, Host: 'evil.example' } }, (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c));
            res.on('end', () => resolve(text));
          }).on('error', reject);
        });
        expect((JSON.parse(body) as { iceServers: unknown }).iceServers).toEqual([{ urls: [`stun:${ip}:${address.stunPort}`] }]);
      }
    } finally {
      await server.close();
    }
    const pub = createServer({
      tls: { mode: 'off' },
      auth: { secrets: ['test-secret-0123456789abcdef'] },
      logLevel: 'silent',
      dataDir: tempDir(),
      publicUrl: 'https://sb.example.com',
    });
    const pubAddress = await pub.listen(0, '127.0.0.1');
    try {
      const res = await fetch(`${pubAddress.url}/v1/ice`, { headers: { Authorization: `Bearer ${await pub.issueToken({ user_id: 'c' })}` } });
      expect(((await res.json()) as { iceServers: unknown }).iceServers).toEqual([{ urls: [`stun:sb.example.com:${pubAddress.stunPort}`] }]);
    } finally {
      await pub.close();
    }
  });

  it('stun.enabled false: no UDP socket, no stun: URL', async () => {
    const t = await startServer({ stun: { enabled: false } });
    expect(t.address.stunPort).toBeNull();
    expect((await (await t.connect('a')).welcome).iceServers).toEqual([]);
  });

  it('a taken UDP port fails listen() with a StartupError naming stun.port, and closes the HTTP side', async () => {
    const busy = await udpClient();
    try {
      const port = busy.address().port;
      const server = createServer({
        tls: { mode: 'off' },
        auth: { secrets: ['test-secret-0123456789abcdef'] },
        logLevel: 'silent',
        dataDir: tempDir(),
        stun: { port },
      });
      const err = await server.listen(0, '127.0.0.1').then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StartupError);
      expect((err as StartupError).setting).toBe('stun.port');
      expect((err as Error).message).toBe(
        `stun.port: UDP ${port} is already in use on 127.0.0.1 (coturn on this host? give stun.port another port, or set stun.enabled to false and let coturn answer STUN)`,
      );
      await server.close();
    } finally {
      busy.close();
    }
  });
});

describe('STUN rate limit buckets', () => {
  it('refills at the rate, caps at twice the rate, keys IPv6 by /64, and stays bounded', () => {
    const b = new AddressBuckets(10, 3);
    let ok = 0;
    for (let i = 0; i < 50; i++) if (b.take('a', 0)) ok++;
    expect(ok).toBe(20);
    expect(b.take('a', 100)).toBe(true); // 1 token back after 100 ms
    expect(b.take('a', 100)).toBe(false);
    expect(addressKey('2001:db8::1')).toBe(addressKey('2001:db8:0:0:ffff::2'));
    expect(addressKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(b.take('b', 0) && b.take('c', 0)).toBe(true);
    expect(b.take('d', 500)).toBe(false); // full of live buckets
    expect(b.take('d', 5000)).toBe(true); // refilled ones were forgotten
    expect(b.size).toBeLessThanOrEqual(3);
  });
});
