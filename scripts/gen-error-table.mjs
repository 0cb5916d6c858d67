#!/usr/bin/env node
// Writes the error-code and close-code tables, generated from @switchboard/protocol's registry
// (packages/protocol/dist: build first), between the markers in README.md and docs/protocol.md.
//   node scripts/gen-error-table.mjs           update the files
//   node scripts/gen-error-table.mjs --check   exit 1 when a file is stale (CI)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const START = '<!-- error-codes:start -->';
export const END = '<!-- error-codes:end -->';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const TARGETS = [join(root, 'README.md'), join(root, 'docs', 'protocol.md')];

const cell = (text) => String(text).replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The generated block, markers included. */
export async function renderErrorTables() {
  const { ERROR_CODES, CLOSE_CODES } = await import(pathToFileURL(join(root, 'packages/protocol/dist/index.js')).href);
  const lines = [
    START,
    '<!-- Generated from packages/protocol/src/errors.ts by `npm run docs:errors`. Do not edit by hand. -->',
    '',
    '| Error code | Retryable | Meaning |',
    '|---|---|---|',
    ...Object.entries(ERROR_CODES).map(([code, e]) => `| \`${code}\` | ${e.retryable ? 'yes' : 'no'} | ${cell(e.description)} |`),
    '',
    '| Close code | Name | Client reconnects | Meaning |',
    '|---|---|---|---|',
    ...Object.entries(CLOSE_CODES)
      .sort(([, a], [, b]) => a.code - b.code)
      .map(([name, c]) => `| ${c.code} | \`${name}\` | ${c.reconnect ? 'yes' : 'no'} | ${cell(c.description)} |`),
    '',
    'Other close codes: 1000 (normal, asked for by the client) is final; every other code outside 4500–4999 ' +
      '(1001, 1006, 1011, …) makes the client reconnect with backoff.',
    END,
  ];
  return lines.join('\n');
}

/** Returns the file's text with the block replaced; throws when the markers are missing or out of order. */
export function replaceBlock(text, block, name = 'file') {
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < 0 || end < start) throw new Error(`${name}: missing ${START} … ${END} markers`);
  return text.slice(0, start) + block + text.slice(end + END.length);
}

async function main() {
  const check = process.argv.includes('--check');
  const block = await renderErrorTables();
  let stale = 0;
  for (const file of TARGETS) {
    const name = relative(root, file);
    const text = readFileSync(file, 'utf8');
    const next = replaceBlock(text, block, name);
    if (next === text) continue;
    if (check) {
      console.error(`${name} is stale: run \`npm run docs:errors\``);
      stale += 1;
    } else {
      writeFileSync(file, next);
      console.log(`updated ${name}`);
    }
  }
  if (stale > 0) process.exit(1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
