// The browser SDK's size: the budget, the build tweak that keeps it there, and in-memory
// measurements (the bundle script prints them; test/bundle-size.test.ts holds the budget).
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';

/** /switchboard.js and /switchboard.mjs, minified and gzipped (-9): at most 25 KB (1000 bytes each). */
export const SIZE_BUDGET_BYTES = 25_000;

/**
 * The error registry (protocol's errors.js) without its descriptions: the browser needs each
 * code's `retryable` and reconnect rule, not the prose the docs tables are made of. The one
 * registry stays in packages/protocol/src/errors.ts; a code without a description still builds.
 */
export const stripDescriptions = {
  name: 'strip-error-descriptions',
  setup(b) {
    b.onLoad({ filter: /[\\/]protocol[\\/](dist|src)[\\/]errors\.(js|ts)$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const stripped = source.replace(/,\s*description:\s*(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`)/g, '');
      if (/description:/.test(stripped)) throw new Error(`${args.path}: a description the size tweak could not strip`);
      return { contents: stripped, loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
    });
  },
};

/** The protocol's codec without valibot (protocol/src/codec-light.ts) in place of the full one. */
export const lightCodec = {
  name: 'light-codec',
  setup(b) {
    b.onResolve({ filter: /^\.\/codec\.js$/ }, (args) => {
      if (!/[\\/]protocol[\\/]dist[\\/]index\.js$/.test(args.importer)) return undefined;
      return { path: `${args.resolveDir}/codec-light.js` };
    });
  },
};

const base = (root) => ({
  absWorkingDir: root,
  // Class fields as constructor assignments: no repeated declaration per parameter property (tsconfig.bundle.json).
  tsconfig: 'tsconfig.bundle.json',
  bundle: true,
  platform: 'browser',
  target: ['es2022'],
  legalComments: 'none',
  logLevel: 'warning',
  minify: true,
  write: false,
  plugins: [stripDescriptions, lightCodec],
});

async function measure(options) {
  const result = await build(options);
  const bytes = result.outputFiles[0].contents;
  return { min: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

/** The script tag's file and the ES module, as `npm run build` makes them. */
export async function measureBrowserSdk(root) {
  return {
    script: await measure({ ...base(root), entryPoints: ['scripts/global.js'], format: 'iife' }),
    module: await measure({ ...base(root), entryPoints: ['src/index.ts'], format: 'esm' }),
  };
}

/** What an app bundler ships for `import { Switchboard } from '@switchboard/client'` (tree-shaken). */
export function sizeReport(root) {
  return measure({
    ...base(root),
    format: 'esm',
    stdin: { contents: "export { Switchboard } from './src/index.ts';", resolveDir: root, loader: 'js' },
  });
}
