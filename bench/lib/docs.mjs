/**
 * Replaces one `## Heading` section of a markdown file (from the heading line up to the next
 * `## ` heading or the end of the file), leaving every other section as it is, so several
 * benchmarks can each own their sections of docs/benchmarks.md. A missing section is appended.
 * A missing file is created from `intro`.
 */
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';

export function replaceSection(file, heading, body, { intro = '' } = {}) {
  const title = heading.startsWith('## ') ? heading : `## ${heading}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : intro;
  if (text.length > 0 && !text.endsWith('\n')) text += '\n';
  const section = `${title}\n\n${body.trim()}\n`;
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trimEnd() === title);
  if (start === -1) {
    text = `${text}${text.endsWith('\n\n') || text.length === 0 ? '' : '\n'}${section}`;
  } else {
    let end = lines.findIndex((line, i) => i > start && /^## /.test(line));
    if (end === -1) end = lines.length;
    const before = lines.slice(0, start).join('\n');
    const after = lines.slice(end).join('\n');
    text = `${before}${before ? '\n' : ''}${section}${after ? `\n${after}` : ''}`;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
