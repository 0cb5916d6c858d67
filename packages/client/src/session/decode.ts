/**
 * The SDK's reading of server frames, in browsers and in Node alike: one JSON.parse and a check
 * of what the SDK dispatches on, with no schema library. The server validated what it relays and
 * built the rest itself, so a frame's fields are trusted once its shape is right for dispatch: a
 * JSON object of a known `type`; an ack with a numeric id; an error with a code this version
 * knows (else INTERNAL, the code kept in the message); an `rtc` frame with its call id and signal
 * kind. Anything else is ignored, as from a newer
 * server. test/decode.test.ts holds these rules to the protocol's schemas (packages/protocol).
 */
import { ERROR_CODES, SwitchboardError, type ServerMessage } from '@switchboard/protocol';

/** Every server frame type (the keys of the protocol's serverSchemas). */
export const SERVER_TYPES: readonly string[] = ['welcome', 'ack', 'error', 'message', 'private', 'notice', 'rtc', 'ice', 'pong'];

type Fields = Record<string, unknown>;
const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The frame in `text`, or null when the SDK cannot use it. */
export function decodeFrame(text: string): ServerMessage | null {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(frame)) return null;
  switch (frame['type']) {
    case 'ack':
      return typeof frame['id'] === 'number' ? (frame as ServerMessage) : null;
    case 'error': {
      const code = frame['code'];
      if (typeof code !== 'string' || typeof frame['message'] !== 'string') return null;
      if (Object.hasOwn(ERROR_CODES, code)) return frame as ServerMessage;
      return { ...frame, code: 'INTERNAL', message: `${code}: ${frame['message']}` } as ServerMessage;
    }
    case 'rtc': {
      const signal = frame['signal'];
      return typeof frame['call'] === 'string' && isObject(signal) && typeof signal['kind'] === 'string' ? (frame as ServerMessage) : null;
    }
    case 'welcome':
    case 'message':
    case 'private':
    case 'notice':
    case 'ice':
    case 'pong':
      return frame as ServerMessage;
    default:
      return null;
  }
}

/** An ack's `result`: an object, taken as the shape its request type answers with. */
export function checkResult<T>(result: unknown, type: string): T {
  if (isObject(result)) return result as T;
  throw new SwitchboardError('INTERNAL', `Unexpected answer to ${type}: "(frame)": expected an object`);
}
