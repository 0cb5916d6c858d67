/**
 * Helpers of the README test: the shell commands of a Markdown file's sh blocks, a copy of the
 * built checkout to run them in (bins linked the way `npm ci` links them), and processes run
 * through bash, as typed, in their own process group so the test can stop all of them.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Every command of every ```sh block: comments dropped, indented lines joined to the line above. */
export function shellBlocks(markdown: string): string[][] {
  const blocks: string[][] = [];
  for (const match of markdown.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    const commands: string[] = [];
    for (const raw of match[1]!.split('\n')) {
      const line = raw.replace(/(^|\s)#.*$/, '').trimEnd();
      if (line.trim() === '') continue;
      if (/^\s/.test(line) && commands.length > 0) commands[commands.length - 1] += ` ${line.trim()}`;
      else commands.push(line.trim());
    }
    blocks.push(commands);
  }
  return blocks;
}

/** A usage synopsis rather than a command: optional parts in [brackets] or <placeholders>. */
export const isSynopsis = (command: string) => /\s\[--|\s<[a-z]+>/.test(command);

/**
 * A copy of the checkout at `root` as a fresh clone would have it after `npm ci` and the build:
 * the README, manifests and examples copied; packages/ and apps/ (sources and built dist) and
 * every installed dependency linked; node_modules/.bin holding the installed tools plus the
 * workspaces' bins, linked from package.json as npm does (so a bin whose target is not a
 * committed file, or that the lockfile names differently, is caught here).
 */
export function makeWorkspace(root: string): string {
  const ws = mkdtempSync(join(tmpdir(), 'sb-readme-'));
  for (const file of ['README.md', 'package.json', 'package-lock.json']) cpSync(join(root, file), join(ws, file));
  const tracked = execFileSync('git', ['ls-files', 'examples'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const file of tracked) {
    if (!existsSync(join(root, file))) continue;
    mkdirSync(dirname(join(ws, file)), { recursive: true });
    cpSync(join(root, file), join(ws, file));
  }
  for (const dir of ['packages', 'apps']) symlinkSync(join(root, dir), join(ws, dir));
  const modules = join(ws, 'node_modules');
  mkdirSync(join(modules, '.bin'), { recursive: true });
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry !== '.bin') symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
  }
  for (const entry of readdirSync(join(root, 'node_modules', '.bin'))) {
    symlinkSync(readlinkSync(join(root, 'node_modules', '.bin', entry)), join(modules, '.bin', entry));
  }
  return ws;
}

/** The workspaces' bins as npm would link them: [name, path inside the package, package dir]. */
export function workspaceBins(root: string): { name: string; target: string; dir: string; pkg: string }[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
  const bins: { name: string; target: string; dir: string; pkg: string }[] = [];
  for (const dir of manifest.workspaces) {
    const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { name: string; bin?: string | Record<string, string> };
    const map = typeof pkg.bin === 'string' ? { [pkg.name.split('/').pop()!]: pkg.bin } : (pkg.bin ?? {});
    for (const [name, target] of Object.entries(map)) bins.push({ name, target: target.replace(/^\.\//, ''), dir, pkg: pkg.name });
  }
  return bins;
}

export function linkBin(ws: string, bin: { name: string; target: string; pkg: string }): void {
  const link = join(ws, 'node_modules', '.bin', bin.name);
  rmSync(link, { force: true });
  symlinkSync(`../${bin.pkg}/${bin.target}`, link);
}

export interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** Resolves the first match of `pattern` in stdout+stderr; rejects when the process exits first or time runs out. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM to the whole process group (npx → npm → node), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/** Runs `command` with bash, as typed, in its own process group. */
export function runShell(command: string, cwd: string, env: NodeJS.ProcessEnv): Run {
  const child = spawn('bash', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const wake of waiters) wake();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
      for (const wake of waiters) wake();
    }),
  );
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  return {
    child,
    exited,
    output: () => out,
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no ${pattern} within ${timeoutMs} ms from: ${command}\n${out}`)), timeoutMs);
        const check = () => {
          const match = out.match(pattern);
          if (match) finish(null, match);
          else if (child.exitCode !== null || child.signalCode !== null)
            finish(new Error(`"${command}" exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${out}`));
        };
        const finish = (err: Error | null, match?: RegExpMatchArray) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) reject(err);
          else resolve(match!);
        };
        waiters.add(check);
        check();
      }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      signal('SIGKILL'); // stragglers of the group (npm's children)
    },
  };
}
