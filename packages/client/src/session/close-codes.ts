import { CLOSE_CODES, SwitchboardError } from '@switchboard/protocol';

/** 4500–4999: the server asks us not to reconnect. */
export function isTerminalCloseCode(code: number): boolean {
  return code >= 4500 && code <= 4999;
}

/** The error a terminal close code stands for. */
export function closeCodeError(code: number, reason: string): SwitchboardError {
  const known = Object.values(CLOSE_CODES).find((entry) => entry.code === code);
  const text = reason || known?.description || 'The server closed the connection and asked not to reconnect.';
  const details = { closeCode: code, reason };
  if (code === CLOSE_CODES.UNAUTHORIZED.code) return new SwitchboardError('UNAUTHORIZED', text, { details });
  return new SwitchboardError('CONNECTION_CLOSED', `${text} (close code ${code})`, { details });
}
