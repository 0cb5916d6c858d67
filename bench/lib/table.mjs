/** Markdown table and number formatting shared by the benchmarks. */

/**
 * A GitHub markdown table. `columns`: [{ title, align?: 'left'|'right' }] or strings
 * (strings are left-aligned). `rows`: arrays of cells (strings or numbers).
 */
export function markdownTable(columns, rows) {
  const cols = columns.map((c) => (typeof c === 'string' ? { title: c, align: 'left' } : { align: 'left', ...c }));
  const cell = (v) =>
    String(v ?? '')
      .replace(/\|/g, '\\|')
      .replace(/\n/g, ' ');
  const body = rows.map((r) => cols.map((_, i) => cell(r[i])));
  const widths = cols.map((c, i) => Math.max(3, c.title.length, ...body.map((r) => r[i].length)));
  const pad = (text, i) => (cols[i].align === 'right' ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const line = (cells) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `|${cols.map((c, i) => (c.align === 'right' ? `${'-'.repeat(widths[i] + 1)}:` : `${'-'.repeat(widths[i] + 2)}`)).join('|')}|`;
  return [line(cols.map((c) => c.title)), rule, ...body.map(line)].join('\n');
}

/** A number with `digits` significant digits, thousands separated (e.g. 123 456, 1.23, 0.0456). */
export function fmt(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 10 ** digits) return Math.round(value).toLocaleString('en-US');
  const rounded = Number(value.toPrecision(digits));
  return rounded.toLocaleString('en-US', { maximumFractionDigits: 20 });
}

/** Fixed decimals, '–' for missing. */
export function fixed(value, decimals = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return value.toFixed(decimals);
}

/** "median (min–max)" for a combineRuns() entry, formatted with fmt(). */
export function withSpread(entry, digits = 3) {
  if (!entry) return '–';
  if (entry.n <= 1 || entry.min === entry.max) return fmt(entry.median, digits);
  return `${fmt(entry.median, digits)} (${fmt(entry.min, 2)}–${fmt(entry.max, 2)})`;
}
