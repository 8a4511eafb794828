/**
 * What grew between two V8 `.heapsnapshot`s of one process (from `/__bench/heap-snapshot` or
 * `v8.writeHeapSnapshot()`): the self size and count of every node type and constructor name in
 * the second minus the first, the largest changes first. Compiled code shows as `code:` (optimized
 * code, `(code deopt data)`, `(code relocation info)`): growth there alone is the JIT warming up to
 * a new path, not data kept per request.
 *
 *   npx tsx bench/tools/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [rows=40]
 */
import { readFile } from 'node:fs/promises';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

type Groups = Map<string, { count: number; size: number }>;

async function groups(file: string): Promise<Groups> {
  const snap = JSON.parse(await readFile(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const NF = fields.length;
  const nType = fields.indexOf('type');
  const nName = fields.indexOf('name');
  const nSize = fields.indexOf('self_size');
  const found: Groups = new Map();
  for (let i = 0; i < snap.nodes.length; i += NF) {
    const type = types[snap.nodes[i + nType]!]!;
    // A string's name is its text, a hidden node's an address: grouped by type alone.
    const name = type.includes('string') || type === 'hidden' ? '' : snap.strings[snap.nodes[i + nName]!]!.slice(0, 80);
    const key = `${type}:${name}`;
    const group = found.get(key) ?? { count: 0, size: 0 };
    group.count += 1;
    group.size += snap.nodes[i + nSize]!;
    found.set(key, group);
  }
  return found;
}

const [before, after, rowsArg] = process.argv.slice(2);
if (!before || !after) {
  process.stderr.write('usage: heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [rows]\n');
  process.exit(2);
}
const a = await groups(before);
const b = await groups(after);
const rows = [...new Set([...a.keys(), ...b.keys()])].map((key) => ({
  key,
  count: (b.get(key)?.count ?? 0) - (a.get(key)?.count ?? 0),
  size: (b.get(key)?.size ?? 0) - (a.get(key)?.size ?? 0),
}));
rows.sort((x, y) => Math.abs(y.size) - Math.abs(x.size));
const total = rows.reduce((sum, row) => sum + row.size, 0);
const code = rows.filter((row) => row.key.startsWith('code:')).reduce((sum, row) => sum + row.size, 0);
process.stdout.write(`self size ${total >= 0 ? '+' : ''}${total} bytes, of which code ${code >= 0 ? '+' : ''}${code}\n  bytes    count  type:constructor\n`);
for (const row of rows.slice(0, Number(rowsArg ?? 40))) {
  if (row.size === 0 && row.count === 0) continue;
  process.stdout.write(`${String(row.size).padStart(9)} ${String(row.count).padStart(8)}  ${row.key}\n`);
}
