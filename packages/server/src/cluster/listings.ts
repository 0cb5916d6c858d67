/**
 * getRealtimeUsers / getRealtimeGroups over Redis sorted sets read with lexicographic ranges
 * (ZRANGEBYLEX), so a page costs O(log n + page) however large the group or the cluster.
 * Sort keys and cursors are the memory store's: [user_id, cid], [group], [number_of_users, group]
 * (Redis compares UTF-8 bytes; JavaScript compares UTF-16 units: the orders differ only between
 * characters above U+FFFF and those in U+E000–U+FFFF).
 */
import { decodeCursor, encodeCursor, END } from '../state/paging.js';
import type { GroupFilter, GroupRow, Page, PageQuery, UserRow } from '../state/store.js';
import { MAX_SIZE, memberOf, padSize, parseMember, type ClusterKeys } from './keys.js';
import type { Redis } from 'ioredis';

/** A lexicographic range bound: '-' / '+' (open), or bytes with inclusive or exclusive. */
type Bound = '-' | '+' | { bytes: Buffer; inclusive: boolean };

const incl = (s: string | Buffer): Bound => ({ bytes: Buffer.isBuffer(s) ? s : Buffer.from(s), inclusive: true });
const excl = (s: string | Buffer): Bound => ({ bytes: Buffer.isBuffer(s) ? s : Buffer.from(s), inclusive: false });
const arg = (b: Bound): string | Buffer => (typeof b === 'string' ? b : Buffer.concat([Buffer.from(b.inclusive ? '[' : '('), b.bytes]));

/** The tighter of two lower bounds. */
function maxLower(a: Bound, b: Bound): Bound {
  if (a === '-' || a === '+') return a === '-' ? b : a;
  if (b === '-' || b === '+') return b === '-' ? a : b;
  const c = Buffer.compare(a.bytes, b.bytes);
  if (c !== 0) return c > 0 ? a : b;
  return a.inclusive ? b : a;
}

/** The tighter of two upper bounds. */
function minUpper(a: Bound, b: Bound): Bound {
  if (a === '+' || a === '-') return a === '+' ? b : a;
  if (b === '+' || b === '-') return b === '+' ? a : b;
  const c = Buffer.compare(a.bytes, b.bytes);
  if (c !== 0) return c < 0 ? a : b;
  return a.inclusive ? b : a;
}

const endPage = <T>(): Page<T> => ({ list: [], startKey: END, endOfList: true });

/** Reads up to `count` members between lo and hi, ascending or descending, after the cursor member. */
async function range(redis: Redis, key: string, lo: Bound, hi: Bound, query: PageQuery, cursor: string | null, count: number): Promise<string[]> {
  if (cursor !== null) {
    if (query.ascending) lo = maxLower(lo, excl(cursor));
    else hi = minUpper(hi, excl(cursor));
  }
  return query.ascending ? redis.zrangebylex(key, arg(lo), arg(hi), 'LIMIT', 0, count) : redis.zrevrangebylex(key, arg(hi), arg(lo), 'LIMIT', 0, count);
}

function cursorOf(query: PageQuery): (string | number)[] | null {
  return query.startKey === undefined || query.startKey === '' ? null : [...decodeCursor(query.startKey)];
}

function pageOf<T>(rows: T[], limit: number, keyOf: (row: T) => (string | number)[]): Page<T> {
  const list = rows.slice(0, limit);
  const more = rows.length > limit;
  const last = list[list.length - 1];
  return { list, startKey: more && last ? encodeCursor(keyOf(last)) : END, endOfList: !more };
}

export async function listUsers(redis: Redis, keys: ClusterKeys, query: { group: string; user_id?: string | undefined } & PageQuery): Promise<Page<UserRow>> {
  if (query.startKey === END) return endPage();
  const after = cursorOf(query);
  const cursor = after === null ? null : memberOf(String(after[0] ?? ''), String(after[1] ?? ''));
  let lo: Bound = '-';
  let hi: Bound = '+';
  if (query.user_id !== undefined) {
    lo = incl(`${query.user_id}\0`);
    hi = excl(`${query.user_id}\x01`);
  }
  const members = await range(redis, keys.group(query.group), lo, hi, query, cursor, query.limit + 1);
  let rows = members.map(parseMember);
  if (query.user_id !== undefined) rows = rows.filter((r) => r.user_id === query.user_id);
  return pageOf(rows, query.limit, (r) => [r.user_id, r.cid]);
}

export async function listGroups(redis: Redis, keys: ClusterKeys, query: GroupFilter & PageQuery): Promise<Page<GroupRow>> {
  if (query.startKey === END) return endPage();
  return query.searchFor === 'group' ? byName(redis, keys, query) : bySize(redis, keys, query);
}

async function byName(redis: Redis, keys: ClusterKeys, query: GroupFilter & PageQuery): Promise<Page<GroupRow>> {
  const value = String(query.value);
  let lo: Bound = '-';
  let hi: Bound = '+';
  let exclude: string | null = null;
  if (query.range !== undefined) {
    lo = incl(value);
    hi = incl(String(query.range));
  } else {
    switch (query.condition) {
      case '>':
        lo = excl(value);
        break;
      case '>=':
        lo = incl(value);
        hi = excl(Buffer.concat([Buffer.from(value), Buffer.from([0xff])]));
        break; // "starts with"
      case '=':
        lo = incl(value);
        hi = incl(value);
        break;
      case '<':
        hi = excl(value);
        break;
      case '<=':
        hi = incl(value);
        break;
      case '!=':
        exclude = value;
        break;
    }
  }
  const after = cursorOf(query);
  const cursor = after === null ? null : String(after[0] ?? '');
  let names = await range(redis, keys.groupNames, lo, hi, query, cursor, query.limit + 2);
  if (exclude !== null) names = names.filter((n) => n !== exclude);
  names = names.slice(0, query.limit + 1);
  const counts = names.length > 0 ? await redis.hmget(keys.groupCounts, ...names) : [];
  const rows: GroupRow[] = [];
  names.forEach((group, i) => {
    const n = Number(counts[i]);
    if (counts[i] !== null && n > 0) rows.push({ group, number_of_users: n });
  });
  return pageOf(rows, query.limit, (r) => [r.group]);
}

/** The integer sizes [min, max] a number_of_users filter matches (no group has 0 members). */
function sizeInterval(query: GroupFilter): { min: number; max: number; exclude: number | null } {
  const value = Number(query.value);
  if (query.range !== undefined) return { min: Math.ceil(value), max: Math.floor(Number(query.range)), exclude: null };
  switch (query.condition) {
    case '>':
      return { min: Math.floor(value) + 1, max: MAX_SIZE, exclude: null };
    case '>=':
      return { min: Math.ceil(value), max: MAX_SIZE, exclude: null };
    case '=':
      return Number.isInteger(value) ? { min: value, max: value, exclude: null } : { min: 1, max: 0, exclude: null };
    case '<':
      return { min: 1, max: Math.ceil(value) - 1, exclude: null };
    case '<=':
      return { min: 1, max: Math.floor(value), exclude: null };
    case '!=':
      return { min: 1, max: MAX_SIZE, exclude: Number.isInteger(value) ? value : null };
  }
}

async function bySize(redis: Redis, keys: ClusterKeys, query: GroupFilter & PageQuery): Promise<Page<GroupRow>> {
  const interval = sizeInterval(query);
  const min = Math.max(1, interval.min);
  const max = Math.min(MAX_SIZE, interval.max);
  if (!(min <= max)) return endPage();
  const lo = incl(padSize(min));
  const hi: Bound = max === MAX_SIZE ? '+' : excl(padSize(max + 1));
  const after = cursorOf(query);
  const cursor = after === null ? null : `${padSize(Math.max(0, Math.min(MAX_SIZE, Math.trunc(Number(after[0]) || 0))))}\0${String(after[1] ?? '')}`;
  const members = await range(redis, keys.groupSizes, lo, hi, query, cursor, query.limit + 2);
  let rows = members.map((m) => ({ group: m.slice(m.indexOf('\0') + 1), number_of_users: Number(m.slice(0, m.indexOf('\0'))) }));
  if (interval.exclude !== null) rows = rows.filter((r) => r.number_of_users !== interval.exclude);
  return pageOf(rows.slice(0, query.limit + 1), query.limit, (r) => [r.number_of_users, r.group]);
}
