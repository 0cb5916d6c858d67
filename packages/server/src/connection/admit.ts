/**
 * The inbound checks a frame passes before it is queued for dispatch: text only, within
 * `maxFrameBytes`, a valid client message, within the rate limit. Refusals carry the request
 * id when one can be read, so the client can match the error to its request.
 */
import { decodeClientMessage, type ClientMessage, type ErrorCode } from '@switchboard/protocol';
import type { RawData } from 'ws';
import type { ServerContext } from '../context.js';
import { requestIdOf } from './frame-info.js';
import type { TokenBucket } from './rate-limit.js';

export type Admission =
  { ok: true; message: ClientMessage; id: number | null } | { ok: false; id: number | null; code: ErrorCode; message: string; rateLimited: boolean };

const refused = (id: number | null, code: ErrorCode, message: string, rateLimited = false): Admission => ({ ok: false, id, code, message, rateLimited });

export function admitFrame(data: RawData, isBinary: boolean, ctx: Pick<ServerContext, 'metrics' | 'config'>, bucket: TokenBucket): Admission {
  const { metrics, config } = ctx;
  if (isBinary) {
    metrics.messagesIn.count('invalid');
    return refused(null, 'MALFORMED_FRAME', 'Binary frames are not supported; send JSON text.');
  }
  const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  const text = buffer.toString('utf8');
  if (buffer.length > config.limits.maxFrameBytes) {
    metrics.messagesIn.count('invalid');
    return refused(requestIdOf(text), 'PAYLOAD_TOO_LARGE', `Frame is ${buffer.length} bytes; the limit is ${config.limits.maxFrameBytes}.`);
  }
  const decoded = decodeClientMessage(text);
  if (!decoded.ok) {
    metrics.messagesIn.count('invalid');
    return refused(decoded.error.id, decoded.error.code, decoded.error.message);
  }
  const message = decoded.value;
  metrics.messagesIn.count(message.type);
  const id = 'id' in message && typeof message.id === 'number' ? message.id : null;
  if (!bucket.take()) return refused(id, 'RATE_LIMITED', `More than ${config.limits.messagesPerSecond} messages per second; slow down.`, true);
  return { ok: true, message, id };
}
