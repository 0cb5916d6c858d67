#!/usr/bin/env node
// The `switchboard` executable. npm links a package's bin only when its target exists at
// install time, and dist/ does not exist before the first build of a checkout, so the bin is
// this committed file, which loads the compiled CLI.
try {
  await import('../dist/bin.js');
} catch (err) {
  // Not built yet (or only partly): say what to do instead of a module resolution stack.
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !/[\\/]dist[\\/]/.test(String(err.message))) throw err;
  process.stderr.write('switchboard: the CLI is not built yet: run `npm run build` first.\n');
  process.exit(1);
}
