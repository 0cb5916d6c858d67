import { PAGE_LIMIT_MAX, SwitchboardError, parseResult, groupNameProblem, type AckResultOf } from '@switchboard/protocol';
import type { OutgoingRequest } from '../session/requests.js';
import type { Session } from '../session/session.js';
import { fromForm } from './forms.js';
import { listOverHttp, type ListingHttp } from './listings-http.js';
import { TEXT } from './messages.js';
import { userIdFilter } from './validate.js';

/** Skapi's FetchOptions (startKey is an opaque string here; 'end' means past the last page). */
export interface FetchOptions {
  limit?: number;
  fetchMore?: boolean;
  ascending?: boolean;
  startKey?: string;
}

export interface DatabaseResponse<T> {
  list: T[];
  startKey: string;
  endOfList: boolean;
  startKeyHistory: string[];
}

export type GroupCondition = '>' | '>=' | '=' | '<' | '<=' | '!=' | 'gt' | 'gte' | 'eq' | 'lt' | 'lte' | 'ne';
export interface GroupQuery {
  searchFor?: 'group' | 'number_of_users';
  value?: string | number;
  condition?: GroupCondition;
  range?: string | number;
}

const CONDITIONS: readonly string[] = ['>', '>=', '=', '<', '<=', '!=', 'gt', 'gte', 'eq', 'lt', 'lte', 'ne'];
const END = 'end';
const invalid = (message: string) => SwitchboardError.invalidParameter(message);

/**
 * getRealtimeUsers / getRealtimeGroups over the socket (`list_users`,
 * `list_groups`) or, without a realtime connection, over HTTP with the token
 * (as Skapi's), with Skapi's defaults and validation, and the startKey
 * history that makes `fetchMore: true` page through one query.
 */
export class Listings {
  /** Per query: the startKeys the server returned, in order ('end' last when the list ended). */
  private readonly history = new Map<string, string[]>();

  constructor(
    private readonly session: Session,
    private readonly joinedGroup: () => string | null,
    /** Without a realtime connection (none opened, or closed), listings go over HTTP. */
    private readonly http: ListingHttp,
  ) {}

  async getRealtimeUsers(
    params?: { group?: string; user_id?: string } | null,
    fetchOptions?: FetchOptions | null,
  ): Promise<DatabaseResponse<{ user_id: string; cid: string }>> {
    const record = asRecord(fromForm(params), 'params');
    const user_id = userIdFilter(record['user_id']);
    let group = record['group'];
    if (typeof group !== 'string' || group === '') group = this.joinedGroup() ?? undefined;
    if (group === undefined && user_id === undefined) throw SwitchboardError.invalidRequest(TEXT.noGroupJoined);
    if (typeof group === 'string') {
      const problem = groupNameProblem(group);
      if (problem) throw invalid(problem);
    }
    const query = { ...(group === undefined ? {} : { group: group as string }), ...(user_id === undefined ? {} : { user_id }) };
    return this.page('list_users', query, fetchOptions, (options) => this.request('list_users', { ...query, ...options }));
  }

  async getRealtimeGroups(
    params?: GroupQuery | null,
    fetchOptions?: FetchOptions | null,
  ): Promise<DatabaseResponse<{ group: string; number_of_users: number }>> {
    const query = groupQuery(asRecord(fromForm(params), 'params'));
    return this.page('list_groups', query, fetchOptions, (options) => this.request('list_groups', { ...query, ...options }));
  }

  /**
   * Over the realtime connection while there is one (also while it opens or reconnects:
   * requests queue behind the group join, so they see it); over HTTP otherwise. Either way the
   * page is checked against the result shape of `type`.
   */
  private async request<T extends 'list_users' | 'list_groups'>(type: T, fields: object): Promise<AckResultOf<T>> {
    const state = this.session.state;
    if (state !== 'idle' && state !== 'closed') return this.session.request({ type, ...fields } as Extract<OutgoingRequest, { type: T }>);
    const parsed = parseResult(type, await listOverHttp(this.http, type, fields));
    if (!parsed.ok) throw new SwitchboardError('INTERNAL', `Unexpected answer to ${type}: ${parsed.error}`);
    return parsed.value;
  }

  private async page<T>(
    kind: string,
    query: object,
    rawOptions: FetchOptions | null | undefined,
    fetchPage: (options: { limit?: number; startKey?: string; ascending?: boolean }) => Promise<{ list: T[]; startKey: string; endOfList: boolean }>,
  ): Promise<DatabaseResponse<T>> {
    const options = fetchOptionsOf(rawOptions);
    const key = JSON.stringify([kind, query, options.ascending ?? null]);
    let history = this.history.get(key) ?? [];
    let startKey = options.startKey;
    if (options.fetchMore && startKey === undefined) startKey = history.at(-1);
    else if (!options.fetchMore) history = [];
    if (startKey === END) return { list: [], startKey: END, endOfList: true, startKeyHistory: [...history] };
    const result = await fetchPage({
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      ...(startKey === undefined ? {} : { startKey }),
      ...(options.ascending === undefined ? {} : { ascending: options.ascending }),
    });
    const next = result.endOfList ? END : result.startKey;
    history = [...history, next];
    this.history.set(key, history);
    return { list: result.list, startKey: next, endOfList: result.endOfList, startKeyHistory: [...history] };
  }
}

function asRecord(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`"${name}" should be type: <object>.`);
  return value as Record<string, unknown>;
}

function fetchOptionsOf(value: FetchOptions | null | undefined): FetchOptions {
  const record = asRecord(value, 'fetchOptions');
  const options: FetchOptions = {};
  const limit = record['limit'];
  if (limit !== undefined && limit !== null) {
    if (typeof limit !== 'number' || Number.isNaN(limit)) throw invalid('"limit" should be type: <number>.');
    if (limit > PAGE_LIMIT_MAX) throw SwitchboardError.invalidRequest(TEXT.fetchLimit); // Skapi's code for this one
    if (limit < 1) throw invalid('Fetch limit should be at least 1.');
    options.limit = Math.floor(limit);
  }
  for (const flag of ['fetchMore', 'ascending'] as const) {
    const item = record[flag];
    if (item === undefined || item === null) continue;
    if (typeof item !== 'boolean') throw invalid(`"${flag}" should be type: <boolean>.`);
    options[flag] = item;
  }
  const startKey = record['startKey'];
  if (startKey !== undefined && startKey !== null) {
    if (typeof startKey !== 'string') throw invalid('"startKey" should be type: <string>.');
    options.startKey = startKey;
  }
  return options;
}

/** Skapi's defaults (notes §1.6): all groups when omitted; `range` replaces `condition`. */
function groupQuery(params: Record<string, unknown>): {
  searchFor: 'group' | 'number_of_users';
  value: string | number;
  condition?: GroupCondition;
  range?: string | number;
} {
  const searchFor = params['searchFor'] === 'number_of_users' ? 'number_of_users' : 'group';
  const expected = searchFor === 'number_of_users' ? 'number' : 'string';
  let value = params['value'];
  if (value === undefined || value === null) value = searchFor === 'number_of_users' ? 0 : ' ';
  if (typeof value !== expected || (typeof value === 'number' && !Number.isFinite(value))) {
    throw invalid(`"value" must be a ${expected}.`);
  }
  const range = params['range'];
  if (range !== undefined && range !== null) {
    if (typeof range !== expected || (typeof range === 'number' && !Number.isFinite(range))) {
      throw invalid(`"range" must be a ${expected}.`);
    }
    return { searchFor, value: value as string | number, range: range as string | number };
  }
  let condition = params['condition'];
  if (condition === undefined || condition === null) condition = value === ' ' || !value ? '>' : '=';
  if (typeof condition !== 'string' || !CONDITIONS.includes(condition)) {
    throw invalid(`"condition" should be one of ${CONDITIONS.join(' ')}.`);
  }
  return { searchFor, value: value as string | number, condition: condition as GroupCondition };
}
