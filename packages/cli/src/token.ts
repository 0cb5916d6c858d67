/** `switchboard token`: print a JWT signed with the configured (or persisted) secret. */
import { parseArgs } from 'node:util';
import { resolveSecrets, signToken, userIdProblem } from '@switchboard/server';
import { parseArgsError, UsageError } from './errors.js';
import { CONFIG_OPTIONS, readConfig } from './options.js';
import { TOKEN_USAGE } from './usage.js';

const OPTIONS = {
  ...CONFIG_OPTIONS,
  user: { type: 'string' },
  name: { type: 'string' },
  ttl: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function token(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    parseArgsError(err, 'token');
  }
  if (values.help) return null;
  if (!values.user) throw new UsageError('--user ID is required.', 'token');
  const problem = userIdProblem(values.user);
  if (problem) throw new UsageError(`--user: ${problem}`, 'token');
  const ttl = values.ttl === undefined ? 3600 : Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 1) throw new UsageError(`--ttl: expected a whole number of seconds ≥ 1, got "${values.ttl}".`, 'token');
  const config = readConfig(values, {}, env);
  return signToken(resolveSecrets(config), { user_id: values.user, name: values.name ?? null, ttlSeconds: ttl });
}

export async function tokenCommand(args: string[]): Promise<void> {
  const jwt = await token(args);
  process.stdout.write(jwt === null ? TOKEN_USAGE : `${jwt}\n`);
}
