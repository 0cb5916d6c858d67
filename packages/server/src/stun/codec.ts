/**
 * The little of STUN (RFC 8489, formerly 5389) a Binding server needs: read a request,
 * write a Binding success (XOR-MAPPED-ADDRESS, MAPPED-ADDRESS for RFC 3489-era readers,
 * FINGERPRINT) or an error response. Hand-written because the format is tiny and fixed,
 * and every byte we send is bounded by construction (MAX_RESPONSE_BYTES).
 */
import { isIPv4 } from 'node:net';

export const MAGIC_COOKIE = 0x2112a442;
const FINGERPRINT_XOR = 0x5354554e;
const BINDING = 0x001;
const ATTR_MAPPED_ADDRESS = 0x0001;
const ATTR_ERROR_CODE = 0x0009;
const ATTR_UNKNOWN_ATTRIBUTES = 0x000a;
const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
const ATTR_FINGERPRINT = 0x8028;
/** Comprehension-required attributes a Binding request may carry that we can safely not act on. */
const UNDERSTOOD = new Set([
  0x0001,
  0x0006,
  0x0008,
  0x0009,
  0x000a,
  0x0014,
  0x0015,
  0x001c,
  0x001d,
  0x001e,
  0x0020,
  0x0024,
  0x0025, // ICE PRIORITY, USE-CANDIDATE (a connectivity check aimed at us by mistake)
]);
/** Larger datagrams are not Binding requests worth parsing (a browser's is 20–100 bytes). */
export const MAX_REQUEST_BYTES = 1024;
/** Every response is at most this big: the IPv6 Binding success (76) is the largest. */
export const MAX_RESPONSE_BYTES = 80;
const MAX_UNKNOWN_LISTED = 8;

export type StunRequest =
  | { kind: 'binding'; transactionId: Buffer }
  | { kind: 'unknown-attributes'; method: number; transactionId: Buffer; types: number[] }
  | { kind: 'unsupported-method'; method: number; transactionId: Buffer };

/** A STUN request worth answering, or null for anything else (responses, indications, garbage). */
export function parseRequest(buf: Buffer): StunRequest | null {
  if (buf.length < 20 || buf.length > MAX_REQUEST_BYTES) return null;
  const type = buf.readUInt16BE(0);
  const length = buf.readUInt16BE(2);
  // Top two bits zero, the magic cookie (no RFC 3489 requests: they cannot be told from noise),
  // the length is the rest of the datagram, attributes are 4-byte aligned, and the class is request.
  if ((type & 0xc000) !== 0 || buf.readUInt32BE(4) !== MAGIC_COOKIE) return null;
  if (length !== buf.length - 20 || length % 4 !== 0 || (type & 0x0110) !== 0) return null;
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const transactionId = Buffer.from(buf.subarray(8, 20));
  const unknown: number[] = [];
  let at = 20;
  while (at < buf.length) {
    if (at + 4 > buf.length) return null;
    const attr = buf.readUInt16BE(at);
    const len = buf.readUInt16BE(at + 2);
    const end = at + 4 + len;
    if (end > buf.length) return null;
    if (attr === ATTR_FINGERPRINT) {
      // Must be last and must match: otherwise this is not (an intact) STUN message.
      if (len !== 4 || end !== buf.length || buf.readUInt32BE(at + 4) !== fingerprint(buf.subarray(0, at))) return null;
    } else if (attr < 0x8000 && !UNDERSTOOD.has(attr) && unknown.length < MAX_UNKNOWN_LISTED) {
      unknown.push(attr);
    }
    at = end + ((4 - (len % 4)) % 4);
  }
  if (unknown.length > 0) return { kind: 'unknown-attributes', method, transactionId, types: unknown };
  if (method !== BINDING) return { kind: 'unsupported-method', method, transactionId };
  return { kind: 'binding', transactionId };
}

/** Binding success for the address the request came from. */
export function bindingSuccess(transactionId: Buffer, address: string, port: number): Buffer {
  return message(0x0101, transactionId, [
    [ATTR_XOR_MAPPED_ADDRESS, encodeAddress(address, port, transactionId, true)],
    [ATTR_MAPPED_ADDRESS, encodeAddress(address, port, transactionId, false)],
  ]);
}

/** An error response (400 for methods we do not serve, 420 with UNKNOWN-ATTRIBUTES). */
export function errorResponse(request: Exclude<StunRequest, { kind: 'binding' }>): Buffer {
  const [code, reason] = request.kind === 'unknown-attributes' ? [420, 'Unknown Attribute'] : [400, 'Binding only'];
  const text = Buffer.from(reason, 'utf8');
  const error = Buffer.alloc(4 + text.length);
  error[2] = Math.floor(code / 100);
  error[3] = code % 100;
  text.copy(error, 4);
  const attributes: [number, Buffer][] = [[ATTR_ERROR_CODE, error]];
  if (request.kind === 'unknown-attributes') {
    const list = Buffer.alloc(request.types.length * 2);
    request.types.forEach((t, i) => list.writeUInt16BE(t, i * 2));
    attributes.push([ATTR_UNKNOWN_ATTRIBUTES, list]);
  }
  // Error class: 0x0110 bits set on the request's method.
  const m = request.method;
  const type = ((m & 0xf80) << 2) | ((m & 0x070) << 1) | (m & 0x00f) | 0x0110;
  return message(type, request.transactionId, attributes);
}

function message(type: number, transactionId: Buffer, attributes: [number, Buffer][]): Buffer {
  const parts = attributes.map(([attr, value]) => {
    const out = Buffer.alloc(4 + value.length + ((4 - (value.length % 4)) % 4));
    out.writeUInt16BE(attr, 0);
    out.writeUInt16BE(value.length, 2);
    value.copy(out, 4);
    return out;
  });
  const body = Buffer.concat(parts);
  const out = Buffer.alloc(20 + body.length + 8);
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(body.length + 8, 2); // FINGERPRINT is counted in the length it covers
  out.writeUInt32BE(MAGIC_COOKIE, 4);
  transactionId.copy(out, 8);
  body.copy(out, 20);
  const at = 20 + body.length;
  out.writeUInt16BE(ATTR_FINGERPRINT, at);
  out.writeUInt16BE(4, at + 2);
  out.writeUInt32BE(fingerprint(out.subarray(0, at)), at + 4);
  if (out.length > MAX_RESPONSE_BYTES) throw new Error(`STUN response of ${out.length} bytes exceeds the bound`);
  return out;
}

/** (XOR-)MAPPED-ADDRESS value; an IPv4-mapped IPv6 address is reported as the IPv4 it is. */
export function encodeAddress(address: string, port: number, transactionId: Buffer, xor: boolean): Buffer {
  const v4 = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  const ip = isIPv4(v4) ? Buffer.from(v4.split('.').map(Number)) : ipv6Bytes(v4);
  const out = Buffer.alloc(4 + ip.length);
  out[1] = ip.length === 4 ? 0x01 : 0x02;
  out.writeUInt16BE(xor ? port ^ (MAGIC_COOKIE >>> 16) : port, 2);
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(MAGIC_COOKIE, 0);
  transactionId.copy(mask, 4);
  for (let i = 0; i < ip.length; i++) out[4 + i] = xor ? ip[i]! ^ mask[i]! : ip[i]!;
  return out;
}

export function ipv6Bytes(address: string): Buffer {
  const zoneless = address.split('%')[0]!;
  const [head, tail] = zoneless.includes('::') ? (zoneless.split('::') as [string, string]) : [zoneless, null];
  // A trailing dotted quad (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) is two groups.
  const groups = (s: string) =>
    (s === '' ? [] : s.split(':')).flatMap((g) => {
      if (!g.includes('.')) return [g];
      const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
      return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    });
  const left = groups(head);
  const right = tail === null ? [] : groups(tail);
  const all = tail === null ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
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

/** FINGERPRINT value: CRC-32 of everything before the attribute, XOR 0x5354554e. */
export function fingerprint(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff ^ FINGERPRINT_XOR) >>> 0;
}
