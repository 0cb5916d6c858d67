/**
 * Token buckets per source address for the STUN responder. UDP sources can be forged, so the
 * limit is what keeps the server from being a reflector: whatever an attacker sends "from" a
 * victim, the victim gets at most `perSecond` small responses a second (twice that at once).
 * The table is bounded; spoofed floods from many addresses cannot grow it without limit.
 */
import { isIPv4 } from 'node:net';
import { ipv6Bytes } from './codec.js';

interface Bucket {
  tokens: number;
  at: number;
}

/** One key per IPv4 address, one per IPv6 /64 (a single host usually owns a whole /64). */
export function addressKey(address: string): string {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIPv4(v4)) return v4;
  return ipv6Bytes(address).subarray(0, 8).toString('hex');
}

export class AddressBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;
  private lastPrune = -Infinity;

  constructor(
    private readonly perSecond: number,
    private readonly maxEntries = 10_000,
  ) {
    this.burst = perSecond * 2;
  }

  /** Spends a token for `key`; false when its bucket is empty (or the table is full of live buckets). */
  take(key: string, now = performance.now()): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxEntries && !this.prune(now)) return false;
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Drops buckets that have refilled (forgetting them changes nothing); at most once a second. */
  private prune(now: number): boolean {
    if (now - this.lastPrune < 1000) return false;
    this.lastPrune = now;
    const refillMs = (this.burst / this.perSecond) * 1000;
    for (const [key, bucket] of this.buckets) if (now - bucket.at >= refillMs) this.buckets.delete(key);
    return this.buckets.size < this.maxEntries;
  }
}
