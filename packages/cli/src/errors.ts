import { ConfigError } from '@switchboard/server';

/** A usage problem: printed with a hint, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command: string | null = null,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Turns node:util parseArgs errors (unknown option, missing value) into UsageErrors. */
export function parseArgsError(err: unknown, command: string): never {
  if (err instanceof TypeError && 'code' in err && String((err as { code: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
    throw new UsageError(err.message, command);
  }
  throw err;
}

export function exitCodeFor(err: unknown): number {
  return err instanceof UsageError || err instanceof ConfigError ? 2 : 1;
}
