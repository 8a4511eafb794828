/**
 * What else the machine was doing while a window was timed: the load average and CPU
 * pressure (PSI, /proc/pressure/cpu where the kernel has it), sampled during the window,
 * not only before it.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

const PSI_FILE = '/proc/pressure/cpu';
const SAMPLE_MS = 500;

export interface WindowPressure {
  /** 1-minute load average: mean and max of the samples taken in the window. */
  load1Mean: number;
  load1Max: number;
  /**
   * Share of the window (percent) in which at least one runnable task waited for a CPU,
   * from the PSI `some` total's increase over the window; undefined without PSI.
   */
  cpuSomePercent?: number;
  /** PSI `some avg10` at the window's end (the kernel's own 10 s average), percent. */
  cpuSomeAvg10?: number;
  samples: number;
  /** CPU time (ms, every thread) the contestant's server processes used in the window, from /proc. */
  serverCpuMs?: number;
}

function readPsi(): { total: number; avg10: number } | undefined {
  try {
    const line = readFileSync(PSI_FILE, 'utf8').split('\n').find((l) => l.startsWith('some '));
    const total = Number(/total=(\d+)/.exec(line ?? '')?.[1]);
    const avg10 = Number(/avg10=([\d.]+)/.exec(line ?? '')?.[1]);
    return Number.isFinite(total) ? { total, avg10 } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether this kernel reports CPU pressure. */
export const hasPsi = readPsi() !== undefined;

/** Starts sampling; the returned function stops and summarises. */
export function samplePressure(): () => WindowPressure {
  const loads: number[] = [loadavg()[0]!];
  const psiStart = readPsi();
  const started = performance.now();
  const timer = setInterval(() => loads.push(loadavg()[0]!), SAMPLE_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    loads.push(loadavg()[0]!);
    const psiEnd = readPsi();
    const elapsedMicros = (performance.now() - started) * 1000;
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      load1Mean: round(loads.reduce((a, b) => a + b, 0) / loads.length),
      load1Max: round(Math.max(...loads)),
      ...(psiStart && psiEnd && elapsedMicros > 0
        ? { cpuSomePercent: round(Math.min(100, (100 * (psiEnd.total - psiStart.total)) / elapsedMicros)), cpuSomeAvg10: psiEnd.avg10 }
        : {}),
      samples: loads.length,
    };
  };
}
