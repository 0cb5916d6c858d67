/** What the benchmark ran on, for the report: Node, CPUs, memory, load, git commit. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

function git(args, cwd) {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/**
 * `paths`: repository paths whose uncommitted changes are worth mentioning (the code
 * under test was built from the working tree, which may differ from the commit).
 */
export function machineInfo({ cwd = process.cwd(), paths = [] } = {}) {
  const cpus = os.cpus();
  const commit = git(['rev-parse', '--short', 'HEAD'], cwd);
  const dirty = paths.length ? git(['status', '--porcelain', '--', ...paths], cwd) : null;
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    cpuCount: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    commit,
    uncommittedFiles: dirty === null ? null : dirty.split('\n').filter(Boolean).length,
    date: new Date().toISOString(),
  };
}

export function describeMachine(info) {
  const parts = [`Node ${info.node} (V8 ${info.v8})`, `${info.cpuCount} × ${info.cpuModel}`, `${info.memoryGiB} GiB RAM`, info.platform];
  return parts.join(', ');
}
