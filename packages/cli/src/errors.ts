import { ConfigError, StartupError } from '@switchboard/server';

/**
 * Exit codes (README, "CLI"): 0 ok; 1 unexpected error; 2 usage error or invalid setting;
 * 3 Redis unreachable at start; 4 a setting's resource fails at start (port in use, host not
 * on this machine, data dir not writable, TLS cert/key unreadable or mismatched).
 */
export const EXIT_UNEXPECTED = 1;
export const EXIT_USAGE = 2;
export const EXIT_REDIS_UNREACHABLE = 3;
export const EXIT_STARTUP = 4;

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
  if (err instanceof UsageError || err instanceof ConfigError) return EXIT_USAGE;
  return err instanceof StartupError ? EXIT_STARTUP : EXIT_UNEXPECTED;
}
