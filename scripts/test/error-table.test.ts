// Fails when the generated error/close-code tables in README.md or docs/protocol.md are stale.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLOSE_CODES, ERROR_CODES } from '@switchboard/protocol';
// @ts-expect-error -- plain ESM script without type declarations
import { END, START, TARGETS, renderErrorTables, replaceBlock } from '../gen-error-table.mjs';

const block: string = await renderErrorTables();

describe('generated error tables', () => {
  it('list every error code and close code', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(block).toContain(`| \`${code}\` |`);
    for (const [name, entry] of Object.entries(CLOSE_CODES)) expect(block).toContain(`| ${entry.code} | \`${name}\` |`);
  });

  for (const file of TARGETS as string[]) {
    const name = relative(process.cwd(), file);
    it(`are up to date in ${name}`, () => {
      const text = readFileSync(file, 'utf8');
      expect(text.includes(START) && text.includes(END), `${name} must keep the ${START} / ${END} markers`).toBe(true);
      const fresh = replaceBlock(text, block, name) === text;
      expect(fresh, `${name} has a stale error-code table: run \`npm run docs:errors\``).toBe(true);
    });
  }

  it('replaceBlock refuses files without markers', () => {
    expect(() => replaceBlock('# no markers', block, 'x.md')).toThrow(/markers/);
  });
});
