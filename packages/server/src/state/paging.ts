/** Cursor paging over rows sorted by a key tuple. Cursors are opaque base64url strings; 'end' ends. */
import { RequestError } from '../request-error.js';
import type { Page, PageQuery } from './store.js';

export type SortKey = readonly (string | number)[];

export const END = 'end';

export function compareKeys(a: SortKey, b: SortKey): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

export function encodeCursor(key: SortKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string): SortKey {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.every((k) => typeof k === 'string' || typeof k === 'number')) return parsed;
  } catch {
    // fall through
  }
  throw new RequestError('INVALID_PARAMETER', 'Invalid "startKey": pass the startKey of a previous page.');
}

/** Pages `rows` (any order) by `keyOf`, ascending or descending, resuming after the cursor. */
export function paginate<T>(rows: T[], keyOf: (row: T) => SortKey, query: PageQuery): Page<T> {
  if (query.startKey === END) return { list: [], startKey: END, endOfList: true };
  const direction = query.ascending ? 1 : -1;
  const sorted = rows.map((row) => ({ row, key: keyOf(row) })).sort((a, b) => direction * compareKeys(a.key, b.key));
  const after = query.startKey === undefined || query.startKey === '' ? null : decodeCursor(query.startKey);
  const remaining = after === null ? sorted : sorted.filter((e) => direction * compareKeys(e.key, after) > 0);
  const page = remaining.slice(0, query.limit);
  const more = remaining.length > page.length;
  const last = page[page.length - 1];
  return {
    list: page.map((e) => e.row),
    startKey: more && last ? encodeCursor(last.key) : END,
    endOfList: !more,
  };
}
