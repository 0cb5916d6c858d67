/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and lists the functions with the most self time.
 * CLI: node bench/lib/cpuprofile.mjs FILE.cpuprofile [--top 25] [--filter packages/server] [--inclusive]
 *      node bench/lib/cpuprofile.mjs FILE.cpuprofile --callers functionName   (who calls it)
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function topSelfTime(profile, { top = 25, filter = null } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map();
  const deltas = profile.timeDeltas ?? [];
  profile.samples.forEach((id, i) => hits.set(id, (hits.get(id) ?? 0) + (deltas[i] ?? 0)));
  const total = [...hits.values()].reduce((a, b) => a + b, 0);
  const rows = new Map();
  for (const [id, micros] of hits) {
    const { callFrame } = byId.get(id);
    const url = callFrame.url.replace(/^file:\/\//, '');
    const key = `${callFrame.functionName || '(anonymous)'} ${url}:${callFrame.lineNumber + 1}`;
    const row = rows.get(key) ?? { fn: callFrame.functionName || '(anonymous)', url, line: callFrame.lineNumber + 1, micros: 0 };
    row.micros += micros;
    rows.set(key, row);
  }
  let list = [...rows.values()];
  if (filter) list = list.filter((r) => r.url.includes(filter));
  list.sort((a, b) => b.micros - a.micros);
  return { totalMs: total / 1000, rows: list.slice(0, top).map((r) => ({ ...r, ms: r.micros / 1000, share: r.micros / total })) };
}

/**
 * Inclusive ("total") time per function: the samples in it or anything it called. A function
 * that appears twice on one stack is counted once for that sample.
 */
export function topTotalTime(profile, { top = 25, filter = null } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n) => {
    const { callFrame } = n;
    return `${callFrame.functionName || '(anonymous)'}\t${callFrame.url.replace(/^file:\/\//, '')}:${callFrame.lineNumber + 1}`;
  };
  const totals = new Map();
  const deltas = profile.timeDeltas ?? [];
  let all = 0;
  profile.samples.forEach((id, i) => {
    const micros = deltas[i] ?? 0;
    all += micros;
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const key = keyOf(byId.get(cur));
      if (seen.has(key)) continue;
      seen.add(key);
      totals.set(key, (totals.get(key) ?? 0) + micros);
    }
  });
  let list = [...totals.entries()].map(([key, micros]) => {
    const [fn, where] = key.split('\t');
    return { fn, url: where, micros };
  });
  if (filter) list = list.filter((r) => r.url.includes(filter));
  list.sort((a, b) => b.micros - a.micros);
  return { totalMs: all / 1000, rows: list.slice(0, top).map((r) => ({ ...r, line: '', ms: r.micros / 1000, share: r.micros / all })) };
}

/** The distinct call paths (outermost first) that lead to functions named `name`, with their time. */
export function callersOf(profile, name, depth = 8) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const paths = new Map();
  const deltas = profile.timeDeltas ?? [];
  profile.samples.forEach((id, i) => {
    const chain = [];
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) chain.push(byId.get(cur).callFrame);
    const at = chain.findIndex((f) => f.functionName === name);
    if (at === -1) return;
    const key = chain
      .slice(at, at + depth)
      .map((f) => `${f.functionName || '(anon)'}@${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`)
      .join(' < ');
    paths.set(key, (paths.get(key) ?? 0) + (deltas[i] ?? 0));
  });
  return [...paths.entries()].sort((a, b) => b[1] - a[1]).map(([path, micros]) => ({ path, ms: micros / 1000 }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? dflt : process.argv[i + 1];
  };
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  if (arg('--callers', null)) {
    for (const row of callersOf(profile, arg('--callers', null)).slice(0, Number(arg('--top', 10)))) {
      console.log(`${row.ms.toFixed(1).padStart(8)} ms  ${row.path}`);
    }
    process.exit(0);
  }
  const pick = process.argv.includes('--inclusive') ? topTotalTime : topSelfTime;
  const result = pick(profile, { top: Number(arg('--top', 25)), filter: arg('--filter', null) });
  console.log(`total sampled: ${result.totalMs.toFixed(0)} ms (${pick === topTotalTime ? 'inclusive' : 'self'} time)`);
  for (const r of result.rows) {
    console.log(`${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(1).padStart(8)} ms  ${r.fn}  ${r.url}:${r.line}`);
  }
}
