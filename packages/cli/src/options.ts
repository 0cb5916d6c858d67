import { resolve } from 'node:path';
import { loadConfigWithSources, type SwitchboardConfig, type SwitchboardConfigInput } from '@switchboard/server';

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

type ConfigValues = { config?: string | undefined; 'data-dir'?: string | undefined; secret?: string[] | undefined };

/** The flag that sets each setting path, to name it in errors (e.g. "port … (from --port)"). */
const SHARED_FLAGS: Record<string, string> = { dataDir: '--data-dir', 'auth.secrets': '--secret' };

export function readConfig(values: ConfigValues, flags: SwitchboardConfigInput, env: NodeJS.ProcessEnv = process.env): SwitchboardConfig {
  return readConfigWithSources(values, flags, env).config;
}

/** readConfig, plus `sourceOf(path)`: the flag, env variable, config file or "default" behind a setting. */
export function readConfigWithSources(
  values: ConfigValues,
  flags: SwitchboardConfigInput,
  env: NodeJS.ProcessEnv = process.env,
  flagNames: Record<string, string> = {},
): { config: SwitchboardConfig; sourceOf: (path: string) => string } {
  const merged: SwitchboardConfigInput = { ...flags };
  if (values['data-dir']) merged.dataDir = resolve(values['data-dir']);
  if (values.secret && values.secret.length > 0) merged.auth = { ...merged.auth, secrets: values.secret };
  const file = values.config ?? env['SWITCHBOARD_CONFIG'] ?? null;
  const names = { ...SHARED_FLAGS, ...flagNames };
  return loadConfigWithSources({ file, env, flags: merged, flagsLabel: (path) => names[path] ?? 'command-line flags' });
}
