/**
 * Linux `perf` around a measured loop: every thread of a server, sampled by CPU time, with
 * JavaScript frames named through V8's `--perf-basic-prof` map (start the server with
 * {@link perfServerEnv}). Kernel frames need `kernel.perf_event_paranoid` ≤ 1 (or root). Unlike
 * the inspector's profile it charges no frame for the sampling itself (docs/performance.md,
 * "What the profiles overstate"). V8 then writes `/tmp/perf-<pid>.map` per server; remove them
 * after reading the recordings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Samples per second of CPU time, per thread. */
export const PERF_HZ = 2999;

/** The environment a server needs for perf to name its JavaScript frames (only the servers: not the build, not the load). */
export function perfServerEnv(): Record<string, string> {
  return { NODE_OPTIONS: [process.env.NODE_OPTIONS, '--perf-basic-prof'].filter(Boolean).join(' ') };
}

/** Starts `perf record -g` on `pid` into `file`; rejects with perf's own words if it cannot start. */
export async function startPerfRecord(pid: number, file: string): Promise<ChildProcess> {
  const perf = spawn('perf', ['record', '-F', String(PERF_HZ), '-g', '-p', String(pid), '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  perf.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000)));
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`perf record could not start (${why}): is Linux perf installed (Debian: linux-perf), and may this user trace ${pid}?\n${stderr}`));
    };
    // perf says nothing when it has attached: a short wait in which it did not fail.
    const timer = setTimeout(() => {
      perf.off('error', onError).off('exit', onExit);
      resolve();
    }, 300);
    const onError = (error: Error) => fail(error.message);
    const onExit = (code: number | null) => fail(`exited with ${String(code)}`);
    perf.once('error', onError).once('exit', onExit);
  });
  return perf;
}

/** Stops a recording and waits for perf to write it (at most 10 s, then it is killed). */
export function stopPerfRecord(perf: ChildProcess): Promise<void> {
  if (perf.exitCode !== null || perf.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => perf.kill('SIGKILL'), 10_000);
    perf.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    perf.kill('SIGINT');
  });
}

export interface StackCounts {
  samples: number;
  /** Samples with a frame naming each of `frames` (a function or a library's file) anywhere in their stack. */
  within: Map<string, number>;
}

/** Reads `perf script` of `file` and counts samples by stack, as {@link StackCounts} says. */
export async function countStacks(file: string, frames: string[]): Promise<StackCounts> {
  const script = spawn('perf', ['script', '-i', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  script.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000)));
  const exited = new Promise<number | null>((resolve, reject) => script.once('error', reject).once('close', resolve));
  const counts: StackCounts = { samples: 0, within: new Map(frames.map((frame) => [frame, 0])) };
  let stack: string[] = [];
  const settle = () => {
    // A sample is its header line, then one line per frame, leaf first; a blank line ends it.
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
  const code = await exited;
  if (code !== 0) throw new Error(`perf script -i ${file} exited with ${String(code)}\n${stderr}`);
  return counts;
}
