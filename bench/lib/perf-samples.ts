/**
 * Linux `perf` around a measured loop: every thread of a server and the kernel, sampled by
 * CPU time, with JavaScript frames named through V8's `--perf-basic-prof` map (the server must
 * be started with it, e.g. `NODE_OPTIONS=--perf-basic-prof`). Unlike the inspector's profile it
 * charges no frame for the sampling itself (docs/performance.md, "What the profiles overstate").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Samples per second of CPU time, per thread. */
export const PERF_HZ = 2999;

/** Starts `perf record -g` on `pid` into `file`; resolves once perf has attached. */
export async function startPerfRecord(pid: number, file: string): Promise<ChildProcess> {
  const perf = spawn('perf', ['record', '-F', String(PERF_HZ), '-g', '-p', String(pid), '-o', file], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  if (perf.exitCode !== null) throw new Error(`perf record exited with ${perf.exitCode}: is perf installed, and may this user trace ${pid}?`);
  return perf;
}

export function stopPerfRecord(perf: ChildProcess): Promise<void> {
  return new Promise((resolve) => perf.once('exit', () => resolve()).kill('SIGINT'));
}

export interface StackCounts {
  samples: number;
  /** Samples with a frame naming each of `frames` (a function or a library's file) anywhere in their stack. */
  within: Map<string, number>;
}

/** Reads `perf script` of `file` and counts samples by stack, as {@link StackCounts} says. */
export async function countStacks(file: string, frames: string[]): Promise<StackCounts> {
  const script = spawn('perf', ['script', '-i', file], { stdio: ['ignore', 'pipe', 'ignore'] });
  const counts: StackCounts = { samples: 0, within: new Map(frames.map((frame) => [frame, 0])) };
  let stack: string[] = [];
  const settle = () => {
    // A sample is its header line, then one line per frame, leaf first.
    if (stack.length > 1) {
      counts.samples += 1;
      for (const frame of frames) if (stack.some((line, i) => i > 0 && line.includes(frame))) counts.within.set(frame, counts.within.get(frame)! + 1);
    }
    stack = [];
  };
  for await (const line of createInterface({ input: script.stdout! })) {
    if (line.trim() === '') settle();
    else stack.push(line);
  }
  settle();
  return counts;
}
