#!/usr/bin/env node
import { ConfigError } from '@switchboard/server';
import { doctorCommand } from './commands/doctor.js';
import { turnConfigCommand } from './commands/turn-config.js';
import { exitCodeFor, UsageError } from './errors.js';
import { serve } from './serve.js';
import { tokenCommand } from './token.js';
import { MAIN_USAGE } from './usage.js';

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  serve,
  token: tokenCommand,
  doctor: doctorCommand,
  'turn-config': turnConfigCommand,
};

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(MAIN_USAGE);
    return;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) throw new UsageError(`unknown command "${command}".`);
  await run(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    const hint = err.command ? `switchboard ${err.command} --help` : 'switchboard --help';
    process.stderr.write(`switchboard${err.command ? ` ${err.command}` : ''}: ${err.message}\nRun "${hint}" for usage.\n`);
  } else if (err instanceof ConfigError) {
    process.stderr.write(`switchboard: ${err.message}\n`);
  } else {
    process.stderr.write(`switchboard: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(exitCodeFor(err));
});
