/** Small facts read off raw frames, without decoding them fully. */
import type { ServerMessageType } from '@switchboard/protocol';

/** The type of a buffered frame (buildFrame writes `type` first), for the metrics. */
export function bufferedType(data: Buffer): ServerMessageType {
  const match = /^\{"type":"([a-z_]+)"/.exec(data.toString('latin1', 0, 32));
  return (match?.[1] ?? 'message') as ServerMessageType;
}

/** The request id of an oversized frame, when it parses, so the error can be correlated. */
export function requestIdOf(text: string): number | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'id' in parsed) {
      const id = (parsed as { id: unknown }).id;
      if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id;
    }
  } catch {
    // not JSON: no id
  }
  return null;
}
