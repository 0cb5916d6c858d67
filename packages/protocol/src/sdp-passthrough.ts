/**
 * A session description's SDP, carried through the server as the text it arrived as.
 *
 * An SDP is a few KB of text with an escape (`\r\n`) on every line. On Node 20, JSON.parse of a
 * 4 KB `rtc` description frame costs ~10 µs and JSON.stringify of the relayed frame ~17 µs (the
 * escapes take V8 off its fast path): most of a relay's JavaScript time. The server never reads
 * an SDP (it checks that it is a string and its length), so:
 *
 * - decoding, the SDP's JSON text is cut out of the frame, the rest is parsed (small), and the
 *   SDP text is parsed on its own, as a JSON string (~4 µs), and put back where it was before the
 *   schema check, which sees the same message as a parse of the whole frame would give;
 * - the validated description object remembers that text, and encoding a frame that carries
 *   that object splices the text back in instead of escaping the SDP again.
 *
 * Anything unexpected (no `"sdp":"`, the cut landing anywhere but `signal.description.sdp`, a
 * text that is not a valid JSON string) falls back to parsing the whole frame.
 */
import { isJsonObject } from './is-object.js';

const KEY = '"sdp":"';
/**
 * Stands in for the SDP while the rest of the frame is parsed and while it is re-encoded. Random
 * per process, so a frame cannot carry it on purpose to pass another of its strings off as its SDP
 * (that string would still be checked as an SDP, but not be the one the sender put there).
 */
const MARKER = `\u0000sdp-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
/** MARKER as JSON string content (what goes into a frame's text in its place). */
const MARKER_TEXT = JSON.stringify(MARKER).slice(1, -1);
const MARKER_JSON = `"${MARKER_TEXT}"`;
const BACKSLASH = 0x5c;

/**
 * On a validated description object: its SDP's JSON string content, as it arrived. A symbol
 * that is not enumerable: JSON, spreads and equality checks do not see it (a WeakMap entry per
 * relayed description cost more).
 */
const SDP_TEXT = Symbol('switchboard.sdpText');

/** A frame parsed with its SDP cut out and put back; `text` is the SDP's JSON string content. */
export interface CutParse {
  parsed: Record<string, unknown>;
  text: string;
}

/**
 * Parses `raw` with a description's SDP handled apart, or returns null (then parse it whole):
 * no `"sdp":"` in it, JSON that does not parse, or the SDP not at `signal.description.sdp`.
 */
export function parseCuttingSdp(raw: string): CutParse | null {
  const key = raw.indexOf(KEY);
  if (key === -1) return null;
  const start = key + KEY.length;
  const end = closingQuote(raw, start);
  if (end === -1) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.slice(0, start) + MARKER_TEXT + raw.slice(end));
  } catch {
    return null;
  }
  if (!isJsonObject(parsed)) return null;
  const signal = parsed['signal'];
  const description = isJsonObject(signal) ? signal['description'] : undefined;
  if (!isJsonObject(description) || description['sdp'] !== MARKER) return null;
  const text = raw.slice(start, end);
  try {
    // The string with its quotes, as a slice of the frame (no copy): checked as a JSON string.
    description['sdp'] = JSON.parse(raw.slice(start - 1, end + 1)) as unknown;
  } catch {
    return null;
  }
  return { parsed, text };
}

/** The index of the quote that closes the JSON string whose content starts at `from`, or -1. */
function closingQuote(raw: string, from: number): number {
  for (let quote = raw.indexOf('"', from); quote !== -1; quote = raw.indexOf('"', quote + 1)) {
    let backslashes = 0;
    while (raw.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
  return -1;
}

/** After validation: an `rtc` description's object (the schema's output) carries the SDP `text` arrived as. */
export function rememberSdpText(message: { type: string; signal?: unknown }, text: string): void {
  const signal = message.signal as { kind?: unknown; description?: object } | undefined;
  if (message.type !== 'rtc' || signal?.kind !== 'description' || signal.description === undefined) return;
  Object.defineProperty(signal.description, SDP_TEXT, { value: text });
}

/**
 * JSON of a message whose `signal.description` is a remembered object, in three parts: the text
 * before the SDP's content (with its opening quote), the SDP's content as it arrived, and the rest
 * (from its closing quote). Joined, they are the frame; kept apart, a server can measure and write
 * them without first copying the 4 KB into one string. Null when the message carries no such
 * object (then stringify it as usual).
 */
export function encodeWithSdpText(message: { signal?: unknown }): [string, string, string] | null {
  const signal = message.signal;
  if (!isJsonObject(signal)) return null;
  const description = signal['description'];
  if (!isJsonObject(description)) return null;
  const text = (description as { [SDP_TEXT]?: string })[SDP_TEXT];
  if (text === undefined || typeof description['sdp'] !== 'string') return null;
  const json = JSON.stringify({ ...message, signal: { ...signal, description: { ...description, sdp: MARKER } } });
  const at = json.indexOf(MARKER_JSON);
  // Another string holding the marker (a display name could): not spliced, stringified as usual.
  if (at === -1 || json.lastIndexOf(MARKER_JSON) !== at) return null;
  return [json.slice(0, at + 1), text, json.slice(at + MARKER_JSON.length - 1)];
}
