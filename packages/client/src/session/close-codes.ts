import { CLOSE_CODES, closeCodeEntry, SwitchboardError } from '@switchboard/protocol';

/** The error a terminal close code stands for (meaning from the protocol's registry). */
export function closeCodeError(code: number, reason: string): SwitchboardError {
  const text = reason || closeCodeEntry(code)?.description || 'The server closed the connection and asked not to reconnect.';
  const details = { closeCode: code, reason };
  if (code === CLOSE_CODES.UNAUTHORIZED.code) return new SwitchboardError('UNAUTHORIZED', text, { details });
  return new SwitchboardError('CONNECTION_CLOSED', `${text} (close code ${code})`, { details });
}
