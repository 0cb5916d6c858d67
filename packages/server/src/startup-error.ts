/**
 * Start-up failures that one setting's value causes: the port is taken, the host is no
 * address of this machine, the data dir cannot be written, the TLS files cannot be read or
 * do not match. `setting` is the config path, so a CLI can name it and where it came from.
 */
export class StartupError extends Error {
  constructor(
    readonly setting: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${setting}: ${detail}`, options);
    this.name = 'StartupError';
  }
}

const codeOf = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;

/** "ENOENT (no such file or directory)" style reason, without a stack or a repeated path. */
function reason(err: unknown): string {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const text = /^[A-Z]+: ([^,]+)/.exec(message)?.[1] ?? message;
  return code && !text.startsWith(code) ? `${code} (${text})` : text;
}

/** A file-system failure on `path`, blamed on `setting` (errors that are not I/O pass through). */
export function fileError(err: unknown, setting: string, action: string, path: string): unknown {
  if (err instanceof StartupError || codeOf(err) === undefined) return err;
  return new StartupError(setting, `cannot ${action} ${path}: ${reason(err)}`, { cause: err });
}

/** Why `listen(port, host)` failed, blamed on the setting to change. */
export function listenError(err: unknown, port: number, host: string): unknown {
  switch (codeOf(err)) {
    case 'EADDRINUSE':
      return new StartupError('port', `${port} is already in use on ${host}`, { cause: err });
    case 'EACCES':
      return new StartupError('port', `${port} needs privileges on this machine (ports below 1024); choose a higher port`, { cause: err });
    case 'EADDRNOTAVAIL':
      return new StartupError('host', `${host} is not an address of this machine`, { cause: err });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return new StartupError('host', `cannot resolve ${host} to an address of this machine`, { cause: err });
    case undefined:
      return err;
    default:
      return new StartupError('host', `cannot listen on ${host} port ${port}: ${reason(err)}`, { cause: err });
  }
}
