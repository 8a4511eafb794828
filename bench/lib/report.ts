/**
 * The run's results as Markdown (stdout and docs/performance.md): the machine and what
 * else it was doing, each scenario's contestants (median and spread over the interleaved
 * windows), the ratios against the bars, memory after GC, and the sign-in costs.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { ContestantResult, RatioResult, ScenarioResult, Spread } from './rounds.js';
import type { MemorySample } from './probes.js';

export interface Machine {
  cpus: number;
  cpuModel: string;
  node: string;
  redis: string;
  redisPlacement: string;
  kernel: string;
  memoryGiB: number;
  loadavgBefore: number[];
  loadavgAfter?: number[];
  layout: string;
  psi: boolean;
  date: string;
}

export function describeMachine(redisVersion: string, redisPlacement: string, layout: string, psi: boolean): Machine {
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
    redisPlacement,
    kernel: release(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadavgBefore: loadavg().map((n) => Math.round(n * 100) / 100),
    layout,
    psi,
    date: new Date().toISOString(),
  };
}

function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const rate = (n: number) => fmt(n, n < 100 ? 1 : 0);
const ms = (n: number) => (n === 0 ? '<1' : fmt(n, n < 100 ? 1 : 0));
export const mib = (bytes: number) => fmt(bytes / 2 ** 20, 1);

function spreadText(s: Spread, show: (n: number) => string): string {
  return s.values.length > 1 ? `${show(s.median)} (${show(s.min)}–${show(s.max)})` : show(s.median);
}

function pressureText(c: ContestantResult): string {
  const loads = c.windows.map((w) => w.pressure?.load1Mean).filter((n): n is number => n !== undefined);
  const psi = c.windows.map((w) => w.pressure?.cpuSomePercent).filter((n): n is number => n !== undefined);
  const mean = (list: number[]) => list.reduce((a, b) => a + b, 0) / list.length;
  const load = loads.length ? `${fmt(mean(loads), 2)} (max ${fmt(Math.max(...c.windows.map((w) => w.pressure?.load1Max ?? 0)), 2)})` : 'n/a';
  return `${load} | ${psi.length ? `${fmt(mean(psi), 0)} %` : 'n/a'}`;
}

function ratioText(r: RatioResult): string {
  const verdict = r.pass === undefined ? '' : r.pass ? ' ✅' : ' ❌';
  const cpu = r.cpuRatio && Number.isFinite(r.cpuRatio.median) ? `; by server CPU per request ${fmt(r.cpuRatio.median, 2)}× (${fmt(r.cpuRatio.min, 2)}–${fmt(r.cpuRatio.max, 2)})` : '';
  return `${fmt(r.ratio.median, 2)}× (${fmt(r.ratio.min, 2)}–${fmt(r.ratio.max, 2)})${r.bar !== undefined ? `, bar ≥ ${r.bar}${verdict}` : ''}${cpu}`;
}

export function labelOf(scenario: ScenarioResult, key: string): string {
  return scenario.contestants.find((c) => c.key === key)?.label ?? key;
}

/** One scenario: its contestants, then its ratios. */
export function scenarioMarkdown(s: ScenarioResult): string {
  const lines = [
    `**${s.id}: ${s.name}** — order ${s.order.join(' ')}`,
    '',
    '| contestant | req/s median (min–max) | server CPU ms per request | p50 ms | p99 ms | errors | load 1 min during (max) | CPU pressure during |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...s.contestants.map((c) => `| ${c.label} | ${spreadText(c.rps, rate)} | ${Number.isFinite(c.cpuPerRequest.median) ? spreadText(c.cpuPerRequest, (n) => fmt(n, 2)) : 'n/a'} | ${ms(c.p50.median)} | ${ms(c.p99.median)} | ${c.errors} | ${pressureText(c)} |`),
  ];
  if (s.ratios.length) {
    lines.push('', ...s.ratios.map((r) => `- ${labelOf(s, r.of)} ÷ ${labelOf(s, r.to)}: ${ratioText(r)}`));
  }
  if (s.notes.length) lines.push(...s.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

export function memoryMarkdown(rows: { scenario: string; server: string; sample: MemorySample }[]): string {
  return [
    '| after scenario | server | RSS MiB | heap used MiB | heap total MiB | external MiB |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...rows.map(({ scenario, server, sample }) => `| ${scenario} | ${server} | ${mib(sample.rss)} | ${mib(sample.heapUsed)}${sample.collected ? '' : ' (no GC)'} | ${mib(sample.heapTotal)} | ${mib(sample.external)} |`),
  ].join('\n');
}

export interface Bar {
  what: string;
  bar: string;
  measured: string;
  pass: boolean | undefined;
}

export function barsMarkdown(bars: Bar[]): string {
  return [
    '| bar | target | measured (median, spread) | met |',
    '| --- | --- | --- | --- |',
    ...bars.map((b) => `| ${b.what} | ${b.bar} | ${b.measured} | ${b.pass === undefined ? '—' : b.pass ? '✅' : '❌'} |`),
  ].join('\n');
}

export function machineText(machine: Machine): string {
  return [
    `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}`,
    `Node ${machine.node}; Redis ${machine.redis} (the bench's own redis-server), ${machine.redisPlacement}`,
    machine.layout,
    `load average before the run: ${machine.loadavgBefore.join(', ')}${machine.loadavgAfter ? `; after: ${machine.loadavgAfter.join(', ')}` : ''}; CPU pressure ${machine.psi ? 'from /proc/pressure/cpu' : 'not available (no PSI)'}; ${machine.date}`,
  ].join('\n');
}

export { ratioText };
