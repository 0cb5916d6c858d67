/**
 * STUN messages (RFC 8489) as the doctor's STUN/TURN client needs them: requests with
 * MESSAGE-INTEGRITY (long-term credentials) and FINGERPRINT, decoding of answers, and the
 * XOR-mapped address and ERROR-CODE attributes.
 */
import { createHmac } from 'node:crypto';

const MAGIC = 0x2112a442;
export const METHOD = { binding: 0x001, allocate: 0x003, refresh: 0x004, createPermission: 0x008 } as const;
export const ATTR = {
  mappedAddress: 0x0001,
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  lifetime: 0x000d,
  xorPeerAddress: 0x0012,
  realm: 0x0014,
  nonce: 0x0015,
  xorRelayedAddress: 0x0016,
  requestedTransport: 0x0019,
  xorMappedAddress: 0x0020,
  software: 0x8022,
  fingerprint: 0x8028,
} as const;

export interface StunAttribute {
  type: number;
  value: Buffer;
}

export interface StunMessage {
  /** Method and class bits, e.g. 0x0101 Binding success. */
  type: number;
  method: number;
  cls: 'request' | 'indication' | 'success' | 'error';
  transactionId: Buffer;
  attributes: StunAttribute[];
}

export interface Address {
  family: 4 | 6;
  address: string;
  port: number;
}

export interface StunError {
  code: number;
  reason: string;
}

const CLASSES = ['request', 'indication', 'success', 'error'] as const;

function messageType(method: number, cls: number): number {
  return ((method & 0xf80) << 2) | ((method & 0x070) << 1) | (method & 0x00f) | ((cls & 2) << 7) | ((cls & 1) << 4);
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function encodeAttribute(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value, Buffer.alloc(pad4(value.length))]);
}

/** Encodes a request; with `key`, appends MESSAGE-INTEGRITY (HMAC-SHA1) and FINGERPRINT. */
export function encodeRequest(method: number, transactionId: Buffer, attributes: StunAttribute[], key?: Buffer): Buffer {
  let body = Buffer.concat(attributes.map((a) => encodeAttribute(a.type, a.value)));
  // MESSAGE-INTEGRITY and FINGERPRINT are each computed over a header whose length already
  // counts the attribute being added (RFC 8489 §14.5, §14.7), hence a header per step.
  const header = (length: number) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(messageType(method, 0), 0);
    h.writeUInt16BE(length, 2);
    h.writeUInt32BE(MAGIC, 4);
    transactionId.copy(h, 8);
    return h;
  };
  if (key) {
    const hmac = createHmac('sha1', key)
      .update(Buffer.concat([header(body.length + 24), body]))
      .digest();
    body = Buffer.concat([body, encodeAttribute(ATTR.messageIntegrity, hmac)]);
  }
  const crcInput = Buffer.concat([header(body.length + 8), body]);
  const fingerprint = Buffer.alloc(4);
  fingerprint.writeUInt32BE((crc32(crcInput) ^ 0x5354554e) >>> 0, 0);
  body = Buffer.concat([body, encodeAttribute(ATTR.fingerprint, fingerprint)]);
  return Buffer.concat([header(body.length), body]);
}

/** Decodes one STUN message (null when `buf` is not one). */
export function decodeMessage(buf: Buffer): StunMessage | null {
  if (buf.length < 20 || (buf[0]! & 0xc0) !== 0 || buf.readUInt32BE(4) !== MAGIC) return null;
  const length = buf.readUInt16BE(2);
  if (buf.length < 20 + length) return null;
  const type = buf.readUInt16BE(0);
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = ((type & 0x0100) >> 7) | ((type & 0x0010) >> 4);
  const attributes: StunAttribute[] = [];
  let at = 20;
  while (at + 4 <= 20 + length) {
    const t = buf.readUInt16BE(at);
    const len = buf.readUInt16BE(at + 2);
    if (at + 4 + len > 20 + length) break;
    attributes.push({ type: t, value: buf.subarray(at + 4, at + 4 + len) });
    at += 4 + len + pad4(len);
  }
  return { type, method, cls: CLASSES[cls]!, transactionId: buf.subarray(8, 20), attributes };
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function attributeValue(message: StunMessage, type: number): Buffer | undefined {
  return message.attributes.find((a) => a.type === type)?.value;
}

export function decodeXorAddress(value: Buffer, transactionId: Buffer): Address | null {
  if (value.length < 8) return null;
  const family = value[1] === 0x02 ? 6 : 4;
  const port = value.readUInt16BE(2) ^ (MAGIC >>> 16);
  if (family === 4) {
    const raw = value.readUInt32BE(4) ^ MAGIC;
    return { family, port, address: [24, 16, 8, 0].map((s) => (raw >>> s) & 0xff).join('.') };
  }
  if (value.length < 20) return null;
  const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), transactionId]);
  const bytes = Buffer.from(value.subarray(4, 20).map((b, i) => b ^ mask[i]!));
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return { family, port, address: groups.join(':') };
}

/** IPv4 only, so the magic cookie is the whole XOR mask (the transaction id masks IPv6 alone). */
export function encodeXorAddress(address: string, port: number): Buffer {
  if (address.includes(':')) throw new Error('IPv6 peers are not supported by this probe');
  const out = Buffer.alloc(8);
  out[1] = 0x01;
  out.writeUInt16BE(port ^ (MAGIC >>> 16), 2);
  const raw = address.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
  out.writeUInt32BE((raw ^ MAGIC) >>> 0, 4);
  return out;
}

export function errorCode(message: StunMessage): StunError | null {
  const value = attributeValue(message, ATTR.errorCode);
  if (!value || value.length < 4) return null;
  return { code: (value[2]! & 0x07) * 100 + value[3]!, reason: value.subarray(4).toString('utf8') };
}
