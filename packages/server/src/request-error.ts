import type { ErrorCode } from '@switchboard/protocol';

/** Thrown by handlers (and stores) to answer a request with an `error` frame. */
export class RequestError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'RequestError';
    this.code = code;
  }
}
