/**
 * The file-transfer framing on one reliable, ordered data channel (docs: see index.ts):
 *
 *   sender → receiver   {"sbft":1,"op":"start","id","name","type","size"}   JSON text
 *                       <chunk> <chunk> …                                   binary, in order
 *                       {"sbft":1,"op":"end","id","bytes","sha256"}         JSON text
 *                       {"sbft":1,"op":"abort","id","reason"}               JSON text (instead of end)
 *   receiver → sender   {"sbft":1,"op":"ack","id","ok","bytes","sha256","error"?}
 *
 * One transfer at a time per direction and channel (sendFile queues them), so binary chunks
 * need no header: they belong to the transfer that started last. Text that is not such a
 * JSON object, and binary outside a transfer, is left to the app.
 */
export const FRAME_MARK = 'sbft';
export const FRAME_VERSION = 1;

export type Frame =
  | { op: 'start'; id: string; name: string; type: string; size: number | null }
  | { op: 'end'; id: string; bytes: number; sha256: string }
  | { op: 'abort'; id: string; reason: string }
  | { op: 'ack'; id: string; ok: boolean; bytes: number; sha256: string; error?: string };

export function encodeFrame(frame: Frame): string {
  return JSON.stringify({ [FRAME_MARK]: FRAME_VERSION, ...frame });
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** A frame, or null for anything else (app text, or a malformed frame). */
export function parseFrame(data: unknown): Frame | null {
  if (typeof data !== 'string' || data.length > 64 * 1024 || !data.startsWith('{') || !data.includes(`"${FRAME_MARK}"`)) return null;
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(data) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || value[FRAME_MARK] !== FRAME_VERSION || typeof value.id !== 'string') return null;
  const id = value.id;
  switch (value.op) {
    case 'start':
      if (typeof value.name !== 'string' || typeof value.type !== 'string' || !(value.size === null || isCount(value.size))) return null;
      return { op: 'start', id, name: value.name, type: value.type, size: value.size };
    case 'end':
      return isCount(value.bytes) && typeof value.sha256 === 'string' ? { op: 'end', id, bytes: value.bytes, sha256: value.sha256 } : null;
    case 'abort':
      return { op: 'abort', id, reason: typeof value.reason === 'string' ? value.reason : 'aborted' };
    case 'ack': {
      if (typeof value.ok !== 'boolean' || !isCount(value.bytes) || typeof value.sha256 !== 'string') return null;
      const ack: Frame = { op: 'ack', id, ok: value.ok, bytes: value.bytes, sha256: value.sha256 };
      if (typeof value.error === 'string') ack.error = value.error;
      return ack;
    }
    default:
      return null;
  }
}
