/**
 * getRealtimeGroups search rules (Skapi): searchFor group | number_of_users;
 * conditions > >= = < <= != (and gt gte eq lt lte ne); on group names '>='
 * means "starts with"; a range matches value ≤ x ≤ range.
 */
import { RequestError } from '../request-error.js';
import type { Condition, GroupFilter, GroupRow } from './store.js';

const ALIASES: Record<string, Condition> = {
  '>': '>',
  '>=': '>=',
  '=': '=',
  '<': '<',
  '<=': '<=',
  '!=': '!=',
  gt: '>',
  gte: '>=',
  eq: '=',
  lt: '<',
  lte: '<=',
  ne: '!=',
};

export interface GroupSearchInput {
  searchFor: 'group' | 'number_of_users';
  value: string | number;
  condition?: string | undefined;
  range?: string | number | undefined;
}

/** Applies Skapi's defaults and type rules; throws INVALID_PARAMETER with Skapi's messages. */
export function normalizeGroupFilter(input: GroupSearchInput): GroupFilter {
  const expected = input.searchFor === 'number_of_users' ? 'number' : 'string';
  if (typeof input.value !== expected) throw new RequestError('INVALID_PARAMETER', `"value" must be a ${expected}.`);
  if (input.range !== undefined && typeof input.range !== expected) {
    throw new RequestError('INVALID_PARAMETER', `"range" must be a ${expected}.`);
  }
  let condition: Condition;
  if (input.condition === undefined) condition = input.value === ' ' || !input.value ? '>' : '=';
  else condition = ALIASES[input.condition] ?? '=';
  return { searchFor: input.searchFor, value: input.value, condition, range: input.range };
}

function compare(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function matchesGroupFilter(row: GroupRow, filter: GroupFilter): boolean {
  const field = filter.searchFor === 'group' ? row.group : row.number_of_users;
  if (filter.range !== undefined) return compare(field, filter.value) >= 0 && compare(field, filter.range) <= 0;
  const c = compare(field, filter.value);
  switch (filter.condition) {
    case '>':
      return c > 0;
    case '>=':
      return typeof field === 'string' ? field.startsWith(String(filter.value)) : c >= 0;
    case '=':
      return c === 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '!=':
      return c !== 0;
  }
}
