/**
 * The browser SDK's codec: codec.ts's functions without valibot (about 4 KB of the 25 KB
 * budget). The browser build swaps it in for codec.ts (packages/client/scripts/size.mjs); the
 * server, the Node SDK and the tests keep the full schemas. A frame from the server is checked
 * only for what the SDK dispatches on: a JSON object of a known `type` (an ack with an id, an
 * error whose code this version knows, else INTERNAL as in codec.ts); its fields are trusted,
 * as the server validated what it relayed and built the rest itself.
 */
import { ERROR_CODES } from './errors.js';
import { isJsonObject } from './is-object.js';
import type { DecodeError, Result } from './codec.js';
import type { ClientMessage } from './schemas/client.js';
import type { ResultOf, ServerMessage, resultSchemas } from './schemas/server.js';

export { nestingTooDeep, type DecodeError, type Result } from './codec.js';

/** The keys of serverSchemas / resultSchemas (a protocol test keeps these in step). */
export const LIGHT_SERVER_TYPES: readonly string[] = ['welcome', 'ack', 'error', 'message', 'private', 'notice', 'rtc', 'ice', 'pong'];
export const LIGHT_RESULT_TYPES: readonly string[] = [
  'join',
  'post',
  'rtc',
  'list_users',
  'list_groups',
  'ice',
  'push_key',
  'push_subscribe',
  'push_unsubscribe',
];

const fail = (code: DecodeError['code'], message: string): Result<never, DecodeError> => ({ ok: false, error: { code, message, id: null, type: null } });

export function decodeServerMessage(raw: string): Result<ServerMessage, DecodeError> {
  let frame: unknown;
  try {
    frame = JSON.parse(raw);
  } catch {
    return fail('MALFORMED_FRAME', 'Frame is not valid JSON.');
  }
  if (!isJsonObject(frame)) return fail('MALFORMED_FRAME', 'Frame must be a JSON object.');
  const record = frame;
  const type = record['type'];
  if (typeof type !== 'string' || !LIGHT_SERVER_TYPES.includes(type)) return fail('UNKNOWN_TYPE', `Unknown frame type "${String(type).slice(0, 64)}".`);
  if (type === 'ack' && typeof record['id'] !== 'number') return fail('INVALID_PARAMETER', '"id": expected a number');
  if (type === 'error') {
    const code = record['code'];
    if (typeof code !== 'string' || typeof record['message'] !== 'string') return fail('INVALID_PARAMETER', '"code": expected an error code');
    if (!Object.hasOwn(ERROR_CODES, code))
      return { ok: true, value: { ...record, code: 'INTERNAL', message: `${code}: ${String(record['message'])}` } as ServerMessage };
  }
  return { ok: true, value: record as ServerMessage };
}

/** Client frames are the server's to decode; the browser never does. */
export function decodeClientMessage(_raw: string): Result<ClientMessage, DecodeError> {
  return fail('UNKNOWN_TYPE', 'Client frames are not decoded in the browser build.');
}

export function encode(message: ClientMessage | ServerMessage): string {
  return JSON.stringify(message);
}

/** An ack's `result`: an object is taken as the shape the request type has. */
export function parseResult<T extends keyof typeof resultSchemas>(_type: T, result: unknown): Result<ResultOf<T>, string> {
  if (!isJsonObject(result)) return { ok: false, error: '"(frame)": expected an object' };
  return { ok: true, value: result as ResultOf<T> };
}
