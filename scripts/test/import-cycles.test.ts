// Imports point down. Inside every package's src (and test-utils) no file reaches itself through
// relative imports (type-only imports count: a cycle of types is still two files that must
// change together), and nothing under packages/, bench/ or scripts/ imports from e2e/: shared
// test support lives in @switchboard/test-utils.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SKIP_DIRS = new Set(['node_modules', 'dist', '.vite', 'coverage', 'test-results']);

/** Files under `dir` whose name ends with one of `extensions`, skipping build output and dependencies. */
function walk(dir: string, extensions: readonly string[]): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) found.push(...walk(path, extensions));
    } else if (extensions.some((ext) => entry.name.endsWith(ext)) && !entry.name.endsWith('.d.ts')) {
      found.push(path);
    }
  }
  return found;
}

// Static imports and re-exports (`import ... from`, `import '…'`, `export ... from`), dynamic
// `import('…')` and `require('…')`. Comments are stripped first so that prose naming a path is
// not taken for an import (a block comment starts after whitespace: `'packages/*/src'` is no comment).
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])([^'"\n]+)\1/g;

function importSpecifiers(source: string): string[] {
  const code = source.replace(/(^|\s)\/\*[\s\S]*?\*\//g, '$1').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  return [...code.matchAll(SPECIFIER)].map((m) => m[2]!);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The .ts file a relative specifier names (`./x.js` → `./x.ts`, `./dir/index.js`), or null. */
function resolveTs(from: string, specifier: string): string | null {
  const target = resolve(dirname(from), specifier);
  const candidates = [target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx'), target, join(target, 'index.ts')];
  return candidates.find((c) => (c.endsWith('.ts') || c.endsWith('.tsx') ? isFile(c) : false)) ?? null;
}

/** Every cycle's files, one list per strongly connected component of more than one file (or a self-import). */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) connect(node);
  return cycles;
}

function sourceGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const packages = readdirSync(join(ROOT, 'packages')).map((name) => join(ROOT, 'packages', name, 'src'));
  for (const src of packages.filter((dir) => {
    try {
      return statSync(dir).isDirectory();
    } catch {
      return false;
    }
  })) {
    for (const file of walk(src, ['.ts', '.tsx'])) {
      const targets = importSpecifiers(readFileSync(file, 'utf8'))
        .filter((s) => s.startsWith('.'))
        .map((s) => resolveTs(file, s))
        .filter((t): t is string => t !== null);
      graph.set(file, targets);
    }
  }
  return graph;
}

/**
 * Cycles still to cut, each exactly as the check prints it. The test fails on any other cycle,
 * and on an entry here that is no longer a cycle (remove it then).
 */
const KNOWN_CYCLES: readonly string[] = [];

describe('import graph', () => {
  it('finds a cycle when there is one (the check itself works)', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
      ['e', ['e']],
    ]);
    expect(findCycles(graph)).toEqual([['a', 'b', 'c'], ['e']]);
    expect(
      findCycles(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toEqual([]);
    expect(importSpecifiers("import type { X } from './x.js';\n// from './not.js'\nexport { y } from \"../y.js\";\nawait import('./z.js');")).toEqual([
      './x.js',
      '../y.js',
      './z.js',
    ]);
  });

  it('has no cycle of relative imports in packages/*/src but the listed ones', () => {
    const graph = sourceGraph();
    expect(graph.size).toBeGreaterThan(100);
    const cycles = findCycles(graph).map((files) => files.map((f) => relative(ROOT, f).split(sep).join('/')).join(' ↔ '));
    expect(
      cycles.filter((cycle) => !KNOWN_CYCLES.includes(cycle)),
      'new import cycles',
    ).toEqual([]);
    expect(
      KNOWN_CYCLES.filter((known) => !cycles.includes(known)),
      'listed as known but no longer a cycle',
    ).toEqual([]);
  });

  it('nothing under packages/, bench/ or scripts/ imports from e2e/', () => {
    const e2e = join(ROOT, 'e2e') + sep;
    const offenders: string[] = [];
    for (const dir of ['packages', 'bench', 'scripts']) {
      for (const file of walk(join(ROOT, dir), ['.ts', '.tsx', '.mts', '.js', '.mjs', '.cjs'])) {
        for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
          if (specifier.startsWith('.') && resolve(dirname(file), specifier).startsWith(e2e)) {
            offenders.push(`${relative(ROOT, file)} imports ${specifier}`);
          }
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
