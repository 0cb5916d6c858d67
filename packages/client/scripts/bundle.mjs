// Browser builds of the SDK (protocol and valibot included, no Node-only dependency):
//   dist/switchboard.browser.js   readable ESM (tests and examples import it)
//   dist/cdn/switchboard.js       minified IIFE for a <script> tag: the global `Switchboard`
//   dist/cdn/switchboard.mjs      minified ESM
// each with a source map that embeds its sources. `switchboard serve` serves the dist/cdn files
// at /switchboard.js and /switchboard.mjs. Prints the sizes (min, and min+gz at gzip -9), also
// of what an app bundler ships for `import { Switchboard }` (docs/benchmarks.md, "Browser SDK size").
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const banner = { js: `/*! Switchboard client ${version} | MIT License */` };

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'browser',
  target: ['es2022'],
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
};

const builds = [
  { ...common, entryPoints: ['src/index.ts'], outfile: 'dist/switchboard.browser.js', format: 'esm' },
  { ...common, entryPoints: ['scripts/global.js'], outfile: 'dist/cdn/switchboard.js', format: 'iife', minify: true, banner },
  { ...common, entryPoints: ['src/index.ts'], outfile: 'dist/cdn/switchboard.mjs', format: 'esm', minify: true, banner },
];

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const gzipped = (bytes) => gzipSync(bytes, { level: 9 }).length;

for (const options of builds) {
  const result = await build({ ...options, metafile: true });
  const node = Object.keys(result.metafile.inputs).find((input) => /(^|\/)node_modules\/(ws|node-datachannel)\/|^node:/.test(input));
  if (node) throw new Error(`${options.outfile}: the browser build pulled in ${node}`);
  if (options.minify) {
    const bytes = readFileSync(new URL(`../${options.outfile}`, import.meta.url));
    console.log(`${options.outfile}: ${kib(bytes.length)} min, ${kib(gzipped(bytes))} min+gz`);
  }
}

// What an app bundler ships for `import { Switchboard } from '@switchboard/client'` (tree-shaken).
const app = await build({
  ...common, stdin: { contents: "export { Switchboard } from './src/index.ts';", resolveDir: root, loader: 'js' },
  format: 'esm', minify: true, sourcemap: false, write: false,
});
const appBytes = app.outputFiles[0].contents;
console.log(`an app importing only Switchboard: ${kib(appBytes.length)} min, ${kib(gzipped(appBytes))} min+gz`);
