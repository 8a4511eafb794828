/**
 * Interleaved rounds: every contestant of a scenario (the hub and its peers, or a scenario
 * and its baseline) is measured in turn, forwards then backwards (A B C C B A: ABBA for
 * two), for several rounds, so drift of the machine's load hits each alike. Ratios pair the
 * k-th window of one contestant with the k-th of the other (neighbours in the sequence);
 * the median of those ratios is the result and their min–max its spread.
 */
import { cpuTimeMs } from './cpu-time.js';
import type { Measurement, WindowHooks } from './load.js';
import { samplePressure, type WindowPressure } from './pressure.js';
import type { MemorySample } from './probes.js';

export interface Contestant {
  key: string;
  label: string;
  /** Servers whose timed windows are profiled (when asked) and whose memory is read at the end. */
  servers: { name: string; url: string; pid?: number }[];
  /** One window: prepare what it needs (not timed), warm up, then the timed phase within `hooks`. */
  measure(hooks: WindowHooks, window: number): Promise<Measurement>;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  values: number[];
}

export function spread(values: number[]): Spread {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: NaN, min: NaN, max: NaN, values };
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, values };
}

export interface ContestantResult {
  key: string;
  label: string;
  windows: Measurement[];
  rps: Spread;
  p50: Spread;
  p99: Spread;
  /** The servers' CPU time per successful request in each timed window, in milliseconds. */
  cpuPerRequest: Spread;
  errors: number;
}

export interface RatioResult {
  of: string;
  to: string;
  bar?: number;
  ratio: Spread;
  pass?: boolean;
  /** CPU per request of `to` ÷ that of `of`, window by window (above 1: `of` needs less CPU per request). */
  cpuRatio: Spread;
}

export interface ScenarioResult {
  id: string;
  name: string;
  order: string[];
  contestants: ContestantResult[];
  ratios: RatioResult[];
  /** Memory of each contestant's servers after a forced GC at the scenario's end. */
  memory: Record<string, MemorySample>;
  notes: string[];
}

export interface RoundOptions {
  rounds: number;
  /** Server names to profile during timed windows (or `all`). */
  profile: string[];
  /**
   * One untimed window of every contestant before the first round: V8 compiles hot code on
   * background threads (pinned to the server's core, and counted in its CPU time) for longer
   * than one warm-up, and a bigger server for longer, so whoever went first paid for it (seen:
   * the hub's first client_credentials window at 2.65 ms of CPU per request, its next at 0.52).
   */
  prewarm?: boolean;
  log(message: string): void;
}

/** A window's server CPU time per successful request (ms); NaN when it was not read. */
function cpuPerRequest(m: Measurement): number {
  return m.pressure?.serverCpuMs !== undefined && m.requests > 0 ? m.pressure.serverCpuMs / m.requests : NaN;
}

async function call(url: string): Promise<unknown> {
  const response = await fetch(url);
  return response.json();
}

export async function memoryOf(server: { url: string }): Promise<MemorySample> {
  return (await call(`${server.url}/__bench/memory`)) as MemorySample;
}

function hooksFor(scenario: string, contestant: Contestant, window: number, options: RoundOptions): WindowHooks {
  const profiled = contestant.servers.filter((s) => options.profile.includes('all') || options.profile.includes(s.name));
  let stop: (() => WindowPressure) | undefined;
  const cpu = () => contestant.servers.length === 0 ? undefined : contestant.servers.reduce<number | undefined>((sum, s) => {
    const used = s.pid !== undefined ? cpuTimeMs(s.pid) : undefined;
    return sum === undefined || used === undefined ? undefined : sum + used;
  }, 0);
  let cpuBefore: number | undefined;
  return {
    async before() {
      await Promise.all(profiled.map((s) => call(`${s.url}/__bench/profile/start`)));
      stop = samplePressure();
      cpuBefore = cpu();
    },
    async after() {
      const cpuAfter = cpu();
      const pressure = stop?.();
      if (pressure && cpuBefore !== undefined && cpuAfter !== undefined) pressure.serverCpuMs = cpuAfter - cpuBefore;
      await Promise.all(profiled.map((s) => call(`${s.url}/__bench/profile/stop?name=${encodeURIComponent(`${s.name}-${scenario}-w${window}`)}`)));
      return pressure;
    },
  };
}

/**
 * Runs `rounds` rounds of A B … … B A over the contestants, then reads every contestant's
 * server memory after a forced GC; `pairs` name the ratios to report (of ÷ to, with a bar).
 */
export async function interleave(
  id: string,
  name: string,
  contestants: Contestant[],
  pairs: { of: string; to: string; bar?: number }[],
  options: RoundOptions,
): Promise<ScenarioResult> {
  const windows = new Map<string, Measurement[]>(contestants.map((c) => [c.key, []]));
  const order: string[] = [];
  const sequence = contestants.length > 1 ? [...contestants, ...[...contestants].reverse()] : contestants;
  if (options.prewarm) {
    const untimed: WindowHooks = { before: async () => {}, after: async () => undefined };
    for (const contestant of contestants) await contestant.measure(untimed, -1);
    options.log(`${id}: every contestant pre-warmed (one untimed window each)`);
  }
  for (let round = 0; round < options.rounds; round += 1) {
    for (const contestant of sequence) {
      const list = windows.get(contestant.key)!;
      const m = await contestant.measure(hooksFor(id, contestant, list.length, options), list.length);
      list.push(m);
      order.push(contestant.key);
      const load = m.pressure ? `; load ${m.pressure.load1Mean}${m.pressure.cpuSomePercent !== undefined ? `, cpu pressure ${m.pressure.cpuSomePercent} %` : ''}` : '';
      options.log(`${id} r${round + 1} ${contestant.label}: ${m.rps.toFixed(1)} /s, p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms, ${m.errors} errors${load}`);
    }
  }
  const memory: Record<string, MemorySample> = {};
  for (const contestant of contestants) {
    for (const server of contestant.servers) memory[server.name] ??= await memoryOf(server);
  }
  const results = contestants.map((c): ContestantResult => {
    const list = windows.get(c.key)!;
    return {
      key: c.key,
      label: c.label,
      windows: list,
      rps: spread(list.map((m) => m.rps)),
      p50: spread(list.map((m) => m.p50)),
      p99: spread(list.map((m) => m.p99)),
      cpuPerRequest: spread(list.map(cpuPerRequest)),
      errors: list.reduce((sum, m) => sum + m.errors, 0),
    };
  });
  const ratios = pairs.map(({ of, to, bar }): RatioResult => {
    const a = windows.get(of)!;
    const b = windows.get(to)!;
    const values = a.slice(0, b.length).map((m, k) => m.rps / b[k]!.rps);
    const ratio = spread(values);
    const cpuRatio = spread(a.slice(0, b.length).map((m, k) => cpuPerRequest(b[k]!) / cpuPerRequest(m)));
    return { of, to, ...(bar !== undefined ? { bar, pass: ratio.median >= bar } : {}), ratio, cpuRatio };
  });
  return { id, name, order, contestants: results, ratios, memory, notes: [] };
}
