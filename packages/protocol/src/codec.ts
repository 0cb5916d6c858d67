import * as v from 'valibot';
import type { ErrorCode } from './errors.js';
import { MAX_NESTING_DEPTH } from './limits.js';
import { clientSchemas, type ClientMessage } from './schemas/client.js';
import { resultSchemas, serverSchemas, type ServerMessage } from './schemas/server.js';
import { encodeWithSdpText, parseCuttingSdp, rememberSdpText } from './sdp-passthrough.js';

export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export interface DecodeError {
  code: Extract<ErrorCode, 'MALFORMED_FRAME' | 'UNKNOWN_TYPE' | 'INVALID_PARAMETER'>;
  message: string;
  /** The request id, when the frame had a usable one, so the error reply can be correlated. */
  id: number | null;
  /** The frame type, when it had one. */
  type: string | null;
}

type SchemaMap = Record<string, v.GenericSchema>;

function issuePath(issue: v.BaseIssue<unknown>): string {
  const keys = issue.path?.map((item) => String(item.key)) ?? [];
  return keys.length > 0 ? keys.join('.') : '(frame)';
}

/**
 * Whether `raw` nests objects/arrays deeper than `max`, and the top-level `id` when one was seen.
 * Scans the text before JSON.parse, without recursion and in linear time: an attack frame is
 * refused after `max` brackets, before it costs a parse. Invalid JSON may be misjudged here;
 * JSON.parse refuses it afterwards anyway.
 */
export function nestingTooDeep(raw: string, max: number = MAX_NESTING_DEPTH): { tooDeep: boolean; id: number | null } {
  let id: number | null = null;
  if (raw.length <= max) return { tooDeep: false, id };
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
      if (depth === 1 && id === null && raw.startsWith('"id"', i)) id = topLevelId(raw, i + 4);
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return { tooDeep: true, id };
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return { tooDeep: false, id };
}

const NOT_TOO_DEEP = { tooDeep: false, id: null } as const;

/** The value of `"id": <integer>` right after the key, if it is a usable request id. */
function topLevelId(raw: string, from: number): number | null {
  const match = /^\s*:\s*(\d{1,16})\s*[,}]/.exec(raw.slice(from, from + 40));
  if (!match) return null;
  const value = Number(match[1]);
  return Number.isSafeInteger(value) ? value : null;
}

/**
 * Whether `raw` has at most `max` opening brackets (strings included), so it cannot nest deeper
 * than `max`: a native search instead of nestingTooDeep's character loop, which on a 4 KB SDP
 * costs more than JSON.parse itself.
 */
function fewBrackets(raw: string, max: number): boolean {
  let count = 0;
  for (let i = raw.indexOf('{'); i !== -1; i = raw.indexOf('{', i + 1)) if (++count > max) return false;
  for (let i = raw.indexOf('['); i !== -1; i = raw.indexOf('[', i + 1)) if (++count > max) return false;
  return true;
}

/** `cutSdp`: parse a description's SDP apart (sdp-passthrough.ts) and remember its text on the output. */
function decodeWith<T>(schemas: SchemaMap, raw: string, cutSdp = false): Result<T, DecodeError> {
  const nesting = fewBrackets(raw, MAX_NESTING_DEPTH) ? NOT_TOO_DEEP : nestingTooDeep(raw);
  if (nesting.tooDeep) {
    const message = `Frame is nested deeper than ${MAX_NESTING_DEPTH} levels of objects and arrays.`;
    return { ok: false, error: { code: 'INVALID_PARAMETER', message, id: nesting.id, type: null } };
  }
  const sdp = cutSdp ? parseCuttingSdp(raw) : null;
  let parsed: unknown;
  if (sdp !== null) parsed = sdp.parsed;
  else {
    try {
      parsed = JSON.parse(raw);
    } catch {
      return { ok: false, error: { code: 'MALFORMED_FRAME', message: 'Frame is not valid JSON.', id: null, type: null } };
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, error: { code: 'MALFORMED_FRAME', message: 'Frame must be a JSON object.', id: null, type: null } };
  }
  const record = parsed as Record<string, unknown>;
  const rawId = record['id'];
  const id = typeof rawId === 'number' && Number.isSafeInteger(rawId) && rawId >= 0 ? rawId : null;
  const type = record['type'];
  if (typeof type !== 'string') {
    return { ok: false, error: { code: 'MALFORMED_FRAME', message: 'Frame must have a string "type".', id, type: null } };
  }
  const schema = Object.hasOwn(schemas, type) ? schemas[type] : undefined;
  if (!schema) {
    return { ok: false, error: { code: 'UNKNOWN_TYPE', message: `Unknown frame type "${type.slice(0, 64)}".`, id, type: null } };
  }
  const result = v.safeParse(schema, parsed);
  if (!result.success) {
    const issue = result.issues[0];
    return {
      ok: false,
      error: { code: 'INVALID_PARAMETER', message: `"${issuePath(issue)}": ${issue.message}`, id, type },
    };
  }
  if (sdp !== null) rememberSdpText(result.output as ClientMessage, sdp.text);
  return { ok: true, value: result.output as T };
}

/** Decodes a client frame. Never throws. A description's SDP is parsed apart and kept as it came (sdp-passthrough.ts). */
export function decodeClientMessage(raw: string): Result<ClientMessage, DecodeError> {
  return decodeWith<ClientMessage>(clientSchemas, raw, true);
}

/** Decodes a server frame. Never throws. */
export function decodeServerMessage(raw: string): Result<ServerMessage, DecodeError> {
  return decodeWith<ServerMessage>(serverSchemas, raw);
}

export function encode(message: ClientMessage | ServerMessage): string {
  const parts = encodeParts(message);
  return parts.length === 1 ? parts[0]! : parts.join('');
}

/**
 * `encode`'s text in parts that join to it: one, or three for a relayed description (its SDP as
 * it arrived, between the JSON before and after it), so the SDP need not be copied to be sent.
 */
export function encodeParts(message: ClientMessage | ServerMessage): readonly string[] {
  return (message.type === 'rtc' ? encodeWithSdpText(message) : null) ?? [JSON.stringify(message)];
}

/** Validates an ack's `result` against the shape expected for the request type. */
export function parseResult<T extends keyof typeof resultSchemas>(type: T, result: unknown): Result<v.InferOutput<(typeof resultSchemas)[T]>, string> {
  const parsed = v.safeParse(resultSchemas[type], result);
  if (parsed.success) return { ok: true, value: parsed.output };
  const issue = parsed.issues[0];
  return { ok: false, error: `"${issuePath(issue)}": ${issue.message}` };
}
