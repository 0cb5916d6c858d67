/**
 * Compares two V8 heap snapshots of one process: the objects the second holds that the first
 * did not (by node id, stable within a process), grouped by type and constructor name, in bytes
 * per `perCount` (e.g. per connection). Used by bench/idle-heap.mjs; also usable on its own:
 *
 *   node bench/lib/heap-diff.mjs BEFORE.heapsnapshot AFTER.heapsnapshot [count] [top]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Per node: id, type name, name and self size (edges are not needed for a by-type diff). */
function readNodes(file) {
  const snapshot = JSON.parse(readFileSync(file, 'utf8'));
  const meta = snapshot.snapshot.meta;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iId = fields.indexOf('id');
  const iSize = fields.indexOf('self_size');
  const { nodes, strings, edges } = snapshot;
  const eFields = meta.edge_fields;
  const eWidth = eFields.length;
  const eTypes = meta.edge_types[0];
  const iEdgeCount = fields.indexOf('edge_count');
  const eType = eFields.indexOf('type');
  const eName = eFields.indexOf('name_or_index');
  const eTo = eFields.indexOf('to_node');
  /** First edge index of each node. */
  const firstEdge = new Uint32Array(nodes.length / width + 1);
  for (let n = 0, e = 0; n < nodes.length / width; n++) {
    firstEdge[n] = e;
    e += nodes[n * width + iEdgeCount] * eWidth;
  }
  const edgesOf = (nodeOffset) => {
    const n = nodeOffset / width;
    const out = [];
    for (let e = firstEdge[n]; e < firstEdge[n] + nodes[nodeOffset + iEdgeCount] * eWidth; e += eWidth) {
      const type = eTypes[edges[e + eType]];
      const name = type === 'element' || type === 'hidden' ? edges[e + eName] : strings[edges[e + eName]];
      out.push({ type, name, to: edges[e + eTo] });
    }
    return out;
  };
  const edge = (nodeOffset, name) => edgesOf(nodeOffset).find((e) => e.name === name)?.to;
  /** Where a closure's function was defined (script file and line) when the snapshot says. */
  const whereDefined = (nodeOffset) => {
    const shared = edge(nodeOffset, 'shared');
    if (shared === undefined) return '';
    const script = edge(shared, 'script_or_debug_info') ?? edge(shared, 'script');
    if (script === undefined) return '';
    const line = lines.get(nodeOffset);
    return ` @${path.basename(strings[nodes[script + iName]])}${line === undefined ? '' : `:${line + 1}`}`;
  };
  const detail = process.env.HEAP_DIFF_DETAIL !== '0';
  /** Closure node offset → line of its definition (snapshot.locations: object_index, script_id, line, column). */
  const lines = new Map();
  const loc = snapshot.locations ?? [];
  const lWidth = meta.location_fields?.length ?? 4;
  for (let l = 0; l < loc.length; l += lWidth) lines.set(loc[l], loc[l + 2]);
  const out = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    let name = strings[nodes[i + iName]];
    if (detail && type === 'closure') name += whereDefined(i);
    if (detail && type === 'object' && name === 'Object') {
      const props = edgesOf(i)
        .filter((e) => e.type === 'property')
        .map((e) => e.name);
      name += ` {${props.slice(0, 8).join(',')}}`;
    }
    // Strings and code are grouped by kind, not by their (unique) text.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'code' || type === 'number') name = '';
    if (type === 'array' || type === 'hidden') name = name.length > 40 ? `${name.slice(0, 40)}…` : name;
    out.set(nodes[i + iId], { key: `${type} ${name}`, size: nodes[i + iSize] });
  }
  return out;
}

/** Rows {key, count, bytes} of what `after` holds beyond `before`, largest first. */
export function heapDiff(beforeFile, afterFile) {
  const before = readNodes(beforeFile);
  const after = readNodes(afterFile);
  const groups = new Map();
  for (const [id, node] of after) {
    if (before.has(id)) continue;
    const g = groups.get(node.key) ?? { key: node.key, count: 0, bytes: 0 };
    g.count += 1;
    g.bytes += node.size;
    groups.set(node.key, g);
  }
  let gone = 0;
  for (const [id, node] of before) if (!after.has(id)) gone += node.size;
  return { rows: [...groups.values()].sort((a, b) => b.bytes - a.bytes), gone };
}

export function printHeapDiff({ rows, gone }, perCount = 1, top = 40) {
  const total = rows.reduce((s, r) => s + r.bytes, 0);
  console.log(
    `new objects: ${(total / perCount).toFixed(0)} B per unit (${perCount} units); freed since the first snapshot: ${(gone / perCount).toFixed(0)} B per unit`,
  );
  console.log('  bytes/unit  count/unit  type name');
  for (const r of rows.slice(0, top)) {
    console.log(`${(r.bytes / perCount).toFixed(1).padStart(12)}  ${(r.count / perCount).toFixed(2).padStart(10)}  ${r.key}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [a, b, count = '1', top = '40'] = process.argv.slice(2);
  printHeapDiff(heapDiff(a, b), Number(count), Number(top));
}
