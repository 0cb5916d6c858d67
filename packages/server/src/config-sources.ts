/**
 * Layers the configuration: defaults ← config file (JSON) ← env (`SWITCHBOARD_*`) ← flags.
 * Env names are derived from the setting path: `limits.maxFrameBytes` →
 * `SWITCHBOARD_LIMITS_MAX_FRAME_BYTES`; lists are comma-separated.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, defaultConfig, mergeConfig, validateConfig, type SwitchboardConfig, type SwitchboardConfigInput } from './config.js';

export interface ConfigSources {
  /** Path of a JSON config file. */
  file?: string | null;
  /** Environment (default: none; pass `process.env` to read it). */
  env?: Record<string, string | undefined>;
  /** Highest-precedence settings, e.g. from command-line flags. */
  flags?: SwitchboardConfigInput;
  /** Label for flag-originated errors (default "flags"), or one per setting path (e.g. "--port"). */
  flagsLabel?: string | ((path: string) => string);
}

const envSegment = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** Every leaf setting, with its env variable name and default value. */
export function configLeaves(): { path: string; env: string; example: unknown }[] {
  const out: { path: string; env: string; example: unknown }[] = [];
  const walk = (node: unknown, path: string[]) => {
    if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
      for (const [key, value] of Object.entries(node)) walk(value, [...path, key]);
      return;
    }
    out.push({ path: path.join('.'), env: `SWITCHBOARD_${path.map(envSegment).join('_')}`, example: node });
  };
  walk(defaultConfig(), []);
  return out;
}

function coerce(raw: string, example: unknown): unknown {
  if (Array.isArray(example))
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  if (typeof example === 'number') return /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(raw.trim()) ? Number(raw) : raw;
  if (typeof example === 'boolean') {
    const lower = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lower)) return true;
    if (['false', '0', 'no', 'off'].includes(lower)) return false;
    return raw;
  }
  if (example === null && raw === '') return null;
  return raw;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

/** Settings from `SWITCHBOARD_*` variables, with a source label per path. */
export function configFromEnv(env: Record<string, string | undefined>): { input: SwitchboardConfigInput; sources: Map<string, string> } {
  const input: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  for (const leaf of configLeaves()) {
    const raw = env[leaf.env];
    if (raw === undefined) continue;
    setPath(input, leaf.path, coerce(raw, leaf.example));
    sources.set(leaf.path, leaf.env);
  }
  return { input: input as SwitchboardConfigInput, sources };
}

const FILE_PATH_SETTINGS = ['dataDir', 'staticDir', 'tls.cert', 'tls.key'];

/** Reads a JSON config file; relative paths in it are resolved against the file's directory. */
export function configFromFile(file: string): { input: SwitchboardConfigInput; sources: Map<string, string> } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '(config file)', message: `cannot read ${file}: ${(err as Error).message}` }]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ path: '(config file)', message: `${file} is not valid JSON: ${(err as Error).message}` }]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([{ path: '(config file)', message: `${file} must contain a JSON object` }]);
  }
  const input = parsed as Record<string, unknown>;
  const base = dirname(resolve(file));
  for (const path of FILE_PATH_SETTINGS) {
    const keys = path.split('.');
    const parent = keys.length === 2 ? input[keys[0]!] : input;
    const key = keys[keys.length - 1]!;
    if (typeof parent === 'object' && parent !== null) {
      const value = (parent as Record<string, unknown>)[key];
      if (typeof value === 'string' && value.length > 0 && !isAbsolute(value)) {
        (parent as Record<string, unknown>)[key] = resolve(base, value);
      }
    }
  }
  const sources = new Map<string, string>();
  const walk = (node: unknown, path: string[]) => {
    if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
      for (const [k, value] of Object.entries(node)) walk(value, [...path, k]);
    } else sources.set(path.join('.'), `config file ${file}`);
  };
  walk(input, []);
  return { input: input as SwitchboardConfigInput, sources };
}

/** defaults ← file ← env ← flags, validated. Throws ConfigError naming the bad setting. */
export function loadConfig(sources: ConfigSources = {}): SwitchboardConfig {
  return loadConfigWithSources(sources).config;
}

/**
 * loadConfig, plus where each setting came from: `sourceOf("port")` is e.g. "--port",
 * "SWITCHBOARD_PORT", "config file ./switchboard.json" or "default" (for start-up errors).
 */
export function loadConfigWithSources(sources: ConfigSources = {}): { config: SwitchboardConfig; sourceOf: (path: string) => string } {
  const origin = new Map<string, string>();
  let merged: unknown = defaultConfig();
  if (sources.file) {
    const fromFile = configFromFile(sources.file);
    merged = mergeConfig(merged, fromFile.input);
    for (const [k, s] of fromFile.sources) origin.set(k, s);
  }
  if (sources.env) {
    const fromEnv = configFromEnv(sources.env);
    merged = mergeConfig(merged, fromEnv.input);
    for (const [k, s] of fromEnv.sources) origin.set(k, s);
  }
  if (sources.flags) {
    merged = mergeConfig(merged, sources.flags);
    const walk = (node: unknown, path: string[]) => {
      if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
        for (const [k, value] of Object.entries(node)) walk(value, [...path, k]);
      } else if (node !== undefined) {
        const label = sources.flagsLabel ?? 'flags';
        origin.set(path.join('.'), typeof label === 'string' ? label : label(path.join('.')));
      }
    };
    walk(sources.flags, []);
  }
  return { config: validateConfig(merged, origin), sourceOf: (path) => origin.get(path) ?? 'default' };
}

export type { SwitchboardConfig };
