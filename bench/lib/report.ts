import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { Measurement } from './load.js';

/** A ratio against a baseline of the same run, and the bar it must reach (if any). */
export interface Ratio {
  baseline: string;
  value: number;
  bar?: number;
}

export interface Row {
  id: string;
  name: string;
  result: Measurement;
  ratios: Ratio[];
  /** Anything a reader needs to read the row right (what a "request" is, counts). */
  note?: string;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  node: string;
  redis: string;
  kernel: string;
  memoryGiB: number;
  loadavgBefore: number[];
  pinned: boolean;
  date: string;
}

export function describeMachine(redisVersion: string, pinned: boolean): Machine {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) cpuModel = line.split(':')[1]!.trim();
  } catch {
    // not Linux: os.cpus() is what there is
  }
  return {
    cpus: cpus().length,
    cpuModel,
    node: process.version,
    redis: redisVersion,
    kernel: release(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadavgBefore: loadavg().map((n) => Math.round(n * 100) / 100),
    pinned,
    date: new Date().toISOString(),
  };
}

export function passed(ratio: Ratio): boolean | undefined {
  return ratio.bar === undefined ? undefined : ratio.value >= ratio.bar;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratioText(ratio: Ratio, markdown: boolean): string {
  const verdict = passed(ratio);
  const mark = verdict === undefined ? '' : verdict ? (markdown ? ' ✅' : ' PASS') : markdown ? ' ❌' : ' FAIL';
  const bar = ratio.bar === undefined ? '' : ` (bar ≥ ${ratio.bar})`;
  return `${ratio.value.toFixed(2)}× ${ratio.baseline}${bar}${mark}`;
}

function cells(row: Row, markdown: boolean): string[] {
  const { result } = row;
  return [
    row.id,
    row.name,
    fmt(result.rps, result.rps < 100 ? 1 : 0),
    latency(result.p50),
    latency(result.p99),
    String(result.errors),
    row.ratios.length ? row.ratios.map((r) => ratioText(r, markdown)).join(markdown ? '<br>' : '; ') : '—',
  ];
}

/** autocannon's histogram has 1 ms steps: 0 means under a millisecond. */
function latency(ms: number): string {
  return ms === 0 ? '<1' : fmt(ms, ms < 100 ? 1 : 0);
}

const HEADER = ['#', 'scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'ratio to same-run baseline'];

/** The results as an aligned text table (stdout). */
export function textTable(rows: Row[]): string {
  const table = [HEADER, ...rows.map((row) => cells(row, false))];
  const widths = HEADER.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c >= 2 && c <= 5 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line)].join('\n');
}

/** The results as a Markdown table (docs/performance.md). */
export function markdownTable(rows: Row[]): string {
  const head = `| ${HEADER.join(' | ')} |\n|${HEADER.map((_, i) => (i >= 2 && i <= 5 ? ' ---: ' : ' --- ')).join('|')}|`;
  return [head, ...rows.map((row) => `| ${cells(row, true).join(' | ')} |`)].join('\n');
}

export function machineText(machine: Machine): string {
  return [
    `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}`,
    `Node ${machine.node}, Redis ${machine.redis}, ${machine.pinned ? 'server on core 0 and load generator on core 1 (taskset)' : 'not pinned (no taskset)'}`,
    `load average before the run: ${machine.loadavgBefore.join(', ')}; ${machine.date}`,
  ].join('\n');
}
