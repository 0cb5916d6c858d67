// Browser builds of the SDK (protocol included, no Node-only dependency):
//   dist/switchboard.browser.js       readable ESM, SDK and file transfer (tests and examples import it)
//   dist/cdn/switchboard.js           minified IIFE for a <script> tag: the global `Switchboard`
//   dist/cdn/switchboard.mjs          minified ESM
//   dist/cdn/switchboard-transfer.js  the file-transfer add-on for the script tag (adds sendFile, ... to the global)
//   dist/cdn/switchboard-transfer.mjs the same as an ES module (imports ./switchboard.mjs)
// each with a source map that embeds its sources. `switchboard serve` serves the dist/cdn files
// at /<name>. The browser builds carry the error registry without its descriptions (docs/protocol.md §9
// has them) and the protocol's codec without valibot (protocol/src/codec-light.ts). Prints the
// sizes (min, and min+gz at gzip -9), also of what an app bundler ships for `import { Switchboard }`
// (docs/benchmarks.md, "Browser SDK size"), and warns over the budget (test/bundle-size.test.ts fails).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { lightCodec, SIZE_BUDGET_BYTES, sizeReport, stripDescriptions } from './size.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const banner = { js: `/*! Switchboard client ${version} | MIT License */` };

const common = {
  absWorkingDir: root,
  // Class fields as constructor assignments: no repeated declaration per parameter property (tsconfig.bundle.json).
  tsconfig: 'tsconfig.bundle.json',
  bundle: true,
  platform: 'browser',
  target: ['es2022'],
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [stripDescriptions, lightCodec],
};

/** The add-ons take SwitchboardError from the SDK they extend, so `instanceof` holds across files. */
const protocolFrom = (contents, external) => ({
  name: 'protocol-from-sdk',
  setup(b) {
    b.onResolve({ filter: /^@switchboard\/protocol$/ }, () => (external ? { path: external, external: true } : { path: 'sdk', namespace: 'sdk' }));
    b.onLoad({ filter: /.*/, namespace: 'sdk' }, () => ({ contents, loader: 'js' }));
  },
});

const builds = [
  { ...common, entryPoints: ['scripts/browser-full.js'], outfile: 'dist/switchboard.browser.js', format: 'esm' },
  { ...common, entryPoints: ['scripts/global.js'], outfile: 'dist/cdn/switchboard.js', format: 'iife', minify: true, banner, budget: true },
  { ...common, entryPoints: ['src/index.ts'], outfile: 'dist/cdn/switchboard.mjs', format: 'esm', minify: true, banner, budget: true },
  {
    ...common,
    entryPoints: ['scripts/global-transfer.js'],
    outfile: 'dist/cdn/switchboard-transfer.js',
    format: 'iife',
    minify: true,
    banner,
    plugins: [protocolFrom('export const SwitchboardError = globalThis.Switchboard?.SwitchboardError;')],
  },
  {
    ...common,
    entryPoints: ['src/transfer/index.ts'],
    outfile: 'dist/cdn/switchboard-transfer.mjs',
    format: 'esm',
    minify: true,
    banner,
    plugins: [protocolFrom(null, './switchboard.mjs')],
  },
];

const kib = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;
const gzipped = (bytes) => gzipSync(bytes, { level: 9 }).length;
const over = [];

for (const { budget, ...options } of builds) {
  const result = await build({ ...options, metafile: true });
  const node = Object.keys(result.metafile.inputs).find((input) => /(^|\/)node_modules\/(ws|node-datachannel)\/|^node:/.test(input));
  if (node) throw new Error(`${options.outfile}: the browser build pulled in ${node}`);
  if (options.minify) {
    const bytes = readFileSync(new URL(`../${options.outfile}`, import.meta.url));
    console.log(`${options.outfile}: ${kib(bytes.length)} min, ${kib(gzipped(bytes))} min+gz`);
    if (budget && gzipped(bytes) > SIZE_BUDGET_BYTES) over.push(options.outfile);
  }
}

// What an app bundler ships for `import { Switchboard } from '@switchboard/client'` (tree-shaken).
const app = await sizeReport(root);
console.log(`an app importing only Switchboard: ${kib(app.min)} min, ${kib(app.gzip)} min+gz`);
// test/bundle-size.test.ts fails over the budget; the build only says so.
if (over.length > 0) console.warn(`Over the ${kib(SIZE_BUDGET_BYTES)} min+gz budget: ${over.join(', ')}`);
