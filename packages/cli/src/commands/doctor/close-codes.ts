/** The doctor's reading of a close code: the protocol's registry, never a copy of it. */
import { closeCodeEntry } from '@switchboard/protocol';

/** What a close code means, as the registry describes it; null for a code the registry does not list. */
export function explainCloseCode(code: number): string | null {
  return closeCodeEntry(code)?.description ?? null;
}

/** The fix line for a connection closed before its welcome. */
export function closeCodeFix(code: number): string {
  const entry = closeCodeEntry(code);
  if (!entry) return 'See the server log.';
  const rule = entry.reconnect ? 'The SDK reconnects after it.' : 'The SDK does not reconnect after it.';
  return `${entry.name}: ${entry.description} ${rule} See the server log.`;
}
