import { resolve } from 'node:path';
import { loadConfig, type SwitchboardConfig, type SwitchboardConfigInput } from '@switchboard/server';

/** Options shared by commands that read the server configuration. */
export const CONFIG_OPTIONS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  secret: { type: 'string', multiple: true },
} as const;

/** A number when the flag looks like one; otherwise the raw text, so the config error can show it. */
export function numberish(value: string): number | string {
  return /^-?\d+$/.test(value.trim()) ? Number(value) : value;
}

export function readConfig(
  values: { config?: string | undefined; 'data-dir'?: string | undefined; secret?: string[] | undefined },
  flags: SwitchboardConfigInput,
  env: NodeJS.ProcessEnv = process.env,
): SwitchboardConfig {
  const merged: SwitchboardConfigInput = { ...flags };
  if (values['data-dir']) merged.dataDir = resolve(values['data-dir']);
  if (values.secret && values.secret.length > 0) merged.auth = { ...merged.auth, secrets: values.secret };
  const file = values.config ?? env['SWITCHBOARD_CONFIG'] ?? null;
  return loadConfig({ file, env, flags: merged, flagsLabel: 'command-line flags' });
}
