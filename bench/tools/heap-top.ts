/**
 * Summarises a V8 `.heapsnapshot` (from `/__bench/heap-snapshot` or `v8.writeHeapSnapshot()`):
 * the self size of every node grouped by type and constructor name, the biggest groups first,
 * and, for the largest single objects, the chain of retainers that keeps each alive (the first
 * non-weak edge at each step), so "11 MiB of strings" can be traced to the module holding them.
 *
 *   npx tsx bench/tools/heap-top.ts <file.heapsnapshot> [rows=30] [largest=15]
 */
import { readFile } from 'node:fs/promises';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const [file, rowsArg, largestArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: heap-top.ts <file.heapsnapshot> [rows] [largest]\n');
  process.exit(2);
}
const rows = Number(rowsArg ?? 30);
const largest = Number(largestArg ?? 15);
const snap = JSON.parse(await readFile(file, 'utf8')) as Snapshot;
const { node_fields: nodeFields, node_types: nodeTypes, edge_fields: edgeFields, edge_types: edgeTypes } = snap.snapshot.meta;
const NF = nodeFields.length;
const EF = edgeFields.length;
const nType = nodeFields.indexOf('type');
const nName = nodeFields.indexOf('name');
const nSize = nodeFields.indexOf('self_size');
const nEdges = nodeFields.indexOf('edge_count');
const eType = edgeFields.indexOf('type');
const eName = edgeFields.indexOf('name_or_index');
const eTo = edgeFields.indexOf('to_node');
const types = nodeTypes[0];
const etypes = edgeTypes[0];
const { nodes, edges, strings } = snap;
const count = nodes.length / NF;

const typeOf = (i: number) => types[nodes[i * NF + nType]!]!;
const nameOf = (i: number) => strings[nodes[i * NF + nName]!]!;
const label = (i: number) => {
  const type = typeOf(i);
  const name = nameOf(i);
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string') return `(${type})`;
  return `${type}:${name.slice(0, 60)}`;
};

// First edge index of every node, and one retainer per node (first strong edge pointing at it).
const firstEdge = new Uint32Array(count + 1);
for (let i = 0, e = 0; i < count; i += 1) {
  firstEdge[i] = e;
  e += nodes[i * NF + nEdges]! * EF;
  firstEdge[i + 1] = e;
}
const retainer = new Int32Array(count).fill(-1);
const retainerEdge = new Array<string>(count);
for (let i = 0; i < count; i += 1) {
  for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e += EF) {
    const kind = etypes[edges[e + eType]!]!;
    if (kind === 'weak' || kind === 'shortcut') continue;
    const to = edges[e + eTo]! / NF;
    if (retainer[to] !== -1) continue;
    retainer[to] = i;
    const nameOrIndex = edges[e + eName]!;
    retainerEdge[to] = kind === 'element' || kind === 'hidden' ? `[${nameOrIndex}]` : String(strings[nameOrIndex]).slice(0, 40);
  }
}

const groups = new Map<string, { size: number; count: number }>();
let total = 0;
for (let i = 0; i < count; i += 1) {
  const size = nodes[i * NF + nSize]!;
  total += size;
  const key = label(i);
  const group = groups.get(key) ?? { size: 0, count: 0 };
  group.size += size;
  group.count += 1;
  groups.set(key, group);
}
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(2);
process.stdout.write(`${file}: ${count} nodes, ${mib(total)} MiB self size in all\n\nby type and constructor (self size):\n`);
for (const [key, group] of [...groups].sort((a, b) => b[1].size - a[1].size).slice(0, rows)) {
  process.stdout.write(`${mib(group.size).padStart(8)} MiB ${String(group.count).padStart(8)}  ${key}\n`);
}

const chain = (i: number): string => {
  const steps: string[] = [];
  for (let at = i, depth = 0; retainer[at]! >= 0 && depth < 8; depth += 1) {
    steps.push(`${retainerEdge[at]} ← ${label(retainer[at]!)}`);
    at = retainer[at]!;
  }
  return steps.join(' ← ');
};
// Attributes each node's self size to the first package or source file named on its retainer
// chain (heuristic: the first retainer is not always the dominator), source-map data apart.
const PACKAGE = /node_modules\/((?:@[^/]+\/)?[^/]+)|\/(hub|bench|subsite-kit)\/src\/|\/(bench)\//;
const byPackage = new Map<string, number>();
for (let i = 0; i < count; i += 1) {
  let owner = '(unattributed)';
  for (let at = i, depth = 0; at >= 0 && depth < 16; depth += 1) {
    if (retainerEdge[at] === 'sourcesContent' || retainerEdge[at] === 'mappings') {
      owner = '(source maps)';
      break;
    }
    const match = PACKAGE.exec(nameOf(at));
    if (match) {
      owner = match[1] ?? match[2] ?? match[3]!;
      break;
    }
    at = retainer[at]!;
  }
  byPackage.set(owner, (byPackage.get(owner) ?? 0) + nodes[i * NF + nSize]!);
}
process.stdout.write(`\nby package or source tree on the retainer chain (heuristic):\n`);
for (const [owner, size] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, rows)) process.stdout.write(`${mib(size).padStart(8)} MiB  ${owner}\n`);

const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => nodes[b * NF + nSize]! - nodes[a * NF + nSize]!);
process.stdout.write(`\nlargest single objects and what holds them:\n`);
for (const i of order.slice(0, largest)) {
  process.stdout.write(`${mib(nodes[i * NF + nSize]!).padStart(8)} MiB  ${label(i)}  ${chain(i)}\n`);
}
