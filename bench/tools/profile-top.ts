/**
 * Summarises a V8 `.cpuprofile` (from `BENCH_CPU_PROF=<server>`): self time by function and
 * by package, so a missed bar can be traced to the code that costs it.
 *
 *   npx tsx bench/tools/profile-top.ts bench/results/profiles/hub-1/CPU….cpuprofile [rows] [focus]
 *
 * With `focus` (a substring of a source URL, e.g. `hub/src`), it also lists the inclusive
 * time (self + callees) of the functions whose URL contains it.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, rowsArg, focus] = process.argv.slice(2);
if (!file) throw new TypeError('usage: profile-top.ts <file.cpuprofile> [rows] [url-substring for inclusive times]');
const rows = Number(rowsArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfMicros = new Map<number, number>();
// Each sample counts as one sampling interval (the median time delta). Deltas themselves are not
// used: the one before the first sample of a window, or after the process was descheduled on a
// loaded machine, can be hundreds of milliseconds and would pin that time on whatever frame
// happened to be sampled next (seen: inspector's native \`dispatch\` at "31 %", one sample).
const deltas = [...profile.timeDeltas].sort((a, b) => a - b);
const interval = deltas[deltas.length >> 1] ?? 1;
for (const id of profile.samples) selfMicros.set(id, (selfMicros.get(id) ?? 0) + interval);
const totalMicros = [...selfMicros.values()].reduce((a, b) => a + b, 0);

function packageOf(url: string): string {
  if (!url) return '(native/V8)';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1]!;
  if (url.startsWith('node:')) return 'node core';
  const ours = /\/(hub|subsite-kit|demo-sites|bench)\/src\/|\/(bench)\//.exec(url);
  return ours ? `ours: ${ours[1] ?? ours[2]}` : url;
}

const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const [id, micros] of selfMicros) {
  const frame = byId.get(id)!.callFrame;
  const where = frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(hub|subsite-kit|bench)\//, '$1/');
  const key = `${frame.functionName || '(anonymous)'}  ${where}:${frame.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
  byPackage.set(packageOf(frame.url), (byPackage.get(packageOf(frame.url)) ?? 0) + micros);
}

const pct = (micros: number) => `${((100 * micros) / totalMicros).toFixed(1).padStart(5)}%`;
const top = (map: Map<string, number>, n: number) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
process.stdout.write(`total ${(totalMicros / 1e6).toFixed(1)} s sampled\n\nself time by package:\n`);
for (const [name, micros] of top(byPackage, 20)) process.stdout.write(`${pct(micros)}  ${name}\n`);
process.stdout.write('\nself time by function:\n');
for (const [name, micros] of top(byFunction, rows)) process.stdout.write(`${pct(micros)}  ${name}\n`);

if (focus) {
  const inclusive = new Map<number, number>();
  const visit = (id: number): number => {
    const node = byId.get(id)!;
    const sum = (selfMicros.get(id) ?? 0) + (node.children ?? []).reduce((acc, child) => acc + visit(child), 0);
    inclusive.set(id, sum);
    return sum;
  };
  visit(profile.nodes[0]!.id);
  const byFocus = new Map<string, number>();
  for (const node of profile.nodes) {
    if (!node.callFrame.url.includes(focus)) continue;
    // Count each function once per stack: skip nodes whose ancestor is the same function.
    const key = `${node.callFrame.functionName || '(anonymous)'}  ${node.callFrame.url.replace(/^.*\/(hub|subsite-kit|bench|node_modules)\//, '$1/')}:${node.callFrame.lineNumber + 1}`;
    byFocus.set(key, (byFocus.get(key) ?? 0) + (inclusive.get(node.id) ?? 0));
  }
  process.stdout.write(`\ninclusive time of functions in ${focus}:\n`);
  for (const [name, micros] of top(byFocus, rows)) process.stdout.write(`${pct(micros)}  ${name}\n`);
}
