#!/usr/bin/env node
import { ConfigError, StartupError } from '@switchboard/server';
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
  } else if (err instanceof ConfigError || err instanceof StartupError) {
    process.stderr.write(`switchboard: ${err.message}\n`);
  } else if (process.env['SWITCHBOARD_DEBUG']) {
    process.stderr.write(`switchboard: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  } else {
    // One line; the stack is for bug reports only.
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`switchboard: unexpected error: ${message.split('\n')[0]} (SWITCHBOARD_DEBUG=1 shows the stack)\n`);
  }
  process.exit(exitCodeFor(err));
});
