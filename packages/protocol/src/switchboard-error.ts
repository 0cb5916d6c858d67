import { ERROR_CODES, type ErrorCode } from './errors.js';

/** The one error type the SDK throws and rejects with. Same shape as Skapi's SkapiError. */
export class SwitchboardError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, options?: { name?: string; details?: Record<string, unknown>; cause?: unknown }) {
    // The browser build's registry has no descriptions: the code itself is the message there.
    super(message ?? ERROR_CODES[code].description ?? code, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = options?.name ?? 'SwitchboardError';
    this.retryable = ERROR_CODES[code].retryable;
    this.details = options?.details;
  }

  static invalidParameter(message: string): SwitchboardError {
    return new SwitchboardError('INVALID_PARAMETER', message);
  }

  static invalidRequest(message: string): SwitchboardError {
    return new SwitchboardError('INVALID_REQUEST', message);
  }

  toJSON(): { code: ErrorCode; message: string; name: string } {
    return { code: this.code, message: this.message, name: this.name };
  }
}
