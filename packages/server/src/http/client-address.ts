/**
 * Who is asking, for the per-address limits (open WebSocket connections per
 * address, guest tokens per minute per address).
 *
 * The address is the TCP peer. `X-Forwarded-For` is read only when `trustProxy`
 * is N > 0: the server then sits behind N proxies, each appending the address it
 * saw, so the client is the Nth entry from the right. Entries further left were
 * written by the client itself and can be anything, so they are never used.
 * IPv6 addresses count per /64: one host usually holds a whole /64.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** `::ffff:1.2.3.4` → `1.2.3.4`; `[::1]:80` / `1.2.3.4:80` → bare address; null when not an IP. */
export function normalizeAddress(raw: string | undefined): string | null {
  if (!raw) return null;
  let s = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(':'));
  s = s.toLowerCase();
  if (s.startsWith('::ffff:') && isIP(s.slice(7)) === 4) s = s.slice(7);
  return isIP(s) === 0 ? null : s;
}

/** The client's address as this server decides it (see the file comment). */
export function clientAddress(req: IncomingMessage, trustProxy: number): string {
  const peer = normalizeAddress(req.socket.remoteAddress) ?? 'unknown';
  if (trustProxy <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  if (hops.length === 0) return peer;
  return normalizeAddress(hops[Math.max(0, hops.length - trustProxy)]) ?? peer;
}

/** The key limits count under: the IPv4 address, or the /64 of an IPv6 address. */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** Open connections per address; `max` 0 means no limit. */
export class AddressCounter {
  private readonly open = new Map<string, number>();

  constructor(private readonly max: number) {}

  count(key: string): number {
    return this.open.get(key) ?? 0;
  }

  /** Takes a slot; false when `key` is at the limit. Each slot taken is released once by the caller. */
  take(key: string): boolean {
    const n = this.count(key);
    if (this.max > 0 && n >= this.max) return false;
    this.open.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const left = this.count(key) - 1;
    if (left <= 0) this.open.delete(key);
    else this.open.set(key, left);
  }
}

/**
 * A token bucket per address: `perMinute` requests in a burst, refilled at
 * `perMinute` per minute. `perMinute` 0 means no limit. Full buckets are
 * dropped once the table grows, so memory follows the addresses seen lately.
 */
export class AddressRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;
  private nextSweep: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly sweepAbove = 10_000,
  ) {
    this.perMs = perMinute / 60_000;
    this.nextSweep = sweepAbove;
  }

  /** 0 when allowed (a token is taken), otherwise the seconds until one is available. */
  take(key: string): number {
    if (this.perMinute <= 0) return 0;
    const now = this.now();
    const bucket = this.buckets.get(key);
    const tokens = bucket ? Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs) : this.perMinute;
    if (tokens < 1) {
      if (bucket) Object.assign(bucket, { tokens, at: now });
      return Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000));
    }
    if (bucket) Object.assign(bucket, { tokens: tokens - 1, at: now });
    else {
      if (this.buckets.size >= this.nextSweep) {
        this.sweep(now);
        // Many addresses at once: sweep again only after the table doubles (amortised O(1) per request).
        this.nextSweep = Math.max(this.sweepAbove, this.buckets.size * 2);
      }
      this.buckets.set(key, { tokens: tokens - 1, at: now });
    }
    return 0;
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.at) * this.perMs >= this.perMinute) this.buckets.delete(key);
    }
  }
}
