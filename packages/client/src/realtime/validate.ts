import { SwitchboardError, USER_ID_MAX, RECIPIENT_MAX, groupNameProblem } from '@switchboard/protocol';
import { byteLength } from '../session/requests.js';
import { TEXT } from './messages.js';

export interface Notification {
  title: string;
  body: string;
  config?: { always?: boolean };
}

const invalid = (message: string) => SwitchboardError.invalidParameter(message);

/** The group for joinRealtime: a valid name, or null to leave. */
export function joinGroup(params: unknown): string | null {
  if (params !== undefined && params !== null && typeof params !== 'object') throw invalid(TEXT.groupType);
  const group = (params as { group?: unknown } | null | undefined)?.group;
  if (group === undefined || group === null || group === '') return null;
  if (typeof group !== 'string') throw invalid(TEXT.groupType);
  const problem = groupNameProblem(group);
  if (problem) throw invalid(problem);
  return group;
}

export function recipient(value: unknown): string {
  if (value === undefined || value === null || value === '') throw SwitchboardError.invalidRequest(TEXT.noRecipient);
  if (typeof value !== 'string') throw invalid('"recipient" should be type: <string>.');
  if (value.length > RECIPIENT_MAX) throw invalid(`"recipient" must be at most ${RECIPIENT_MAX} characters.`);
  return value;
}

/**
 * The message as it will travel: any JSON value, falsy ones included; `undefined` is not one,
 * nor a function or a symbol. What JSON cannot encode (a cycle, a BigInt) fails when the frame
 * is encoded, with `invalidDataType`.
 */
export function jsonMessage(message: unknown): unknown {
  if (message === undefined) throw invalid('"message" is required (any JSON value; use null for none).');
  if (typeof message === 'function' || typeof message === 'symbol') throw invalidDataType();
  return message;
}

export const invalidDataType = (): SwitchboardError => SwitchboardError.invalidRequest(TEXT.invalidDataType);

/** Skapi's notification rules: `title` and `body` strings, `config.always` boolean, `{title, body}` ≤ 3 KB. */
export function notification(value: unknown, maxBytes: number): Notification | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('"notification" should be type: <object>.');
  const record = value as Record<string, unknown>;
  for (const key of ['title', 'body'] as const) {
    if (record[key] === undefined) throw invalid(`Key "${key}" is required.`);
    if (typeof record[key] !== 'string') throw invalid(`"${key}" should be type: <string>.`);
  }
  const result: Notification = { title: record['title'] as string, body: record['body'] as string };
  const config = record['config'];
  if (config !== undefined && config !== null) {
    if (typeof config !== 'object' || Array.isArray(config)) throw invalid('"config" should be type: <object>.');
    const always = (config as Record<string, unknown>)['always'];
    if (always !== undefined && typeof always !== 'boolean') throw invalid('"always" should be type: <boolean>.');
    result.config = always === undefined ? {} : { always };
  }
  if (byteLength(JSON.stringify({ title: result.title, body: result.body })) > maxBytes) {
    throw invalid(TEXT.notificationTooLarge);
  }
  return result;
}

export function userIdFilter(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid('User ID in "user_id" should be type: string.');
  if (value.length === 0) throw invalid('User ID in "user_id" is empty.');
  if (value.length > USER_ID_MAX) throw invalid('User ID in "user_id" is invalid.');
  return value;
}
