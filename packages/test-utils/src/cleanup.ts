/**
 * Last-resort cleanup: synchronous hooks run when the test process exits or is killed by a
 * signal, so no namespace or child process outlives a test run. Normal teardown (afterAll,
 * `stop()`, `delete()`) should have done the work already; these catch the rest.
 */
type Hook = () => void;

const hooks = new Set<Hook>();
let installed = false;

function runAll(): void {
  for (const hook of [...hooks].reverse()) {
    try {
      hook();
    } catch {
      // best effort: keep going
    }
  }
  hooks.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      runAll();
      process.off(signal, onSignal);
      // Re-raise so the default behaviour (or other listeners) still apply.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** Registers a synchronous cleanup; returns a function that unregisters it. */
export function onExit(hook: Hook): () => void {
  install();
  hooks.add(hook);
  return () => hooks.delete(hook);
}
