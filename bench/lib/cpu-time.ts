/**
 * A process's CPU time (user + system, every thread) from `/proc/<pid>/stat`, in
 * milliseconds; undefined where there is no /proc (or the process is gone). Read before and
 * after a timed window, it gives the server's CPU time per request: unlike throughput, it
 * hardly moves with what else the machine is doing.
 */
import { readdirSync, readFileSync } from 'node:fs';

const USER_HZ = 100; // clock ticks per second of /proc/<pid>/stat on Linux

export function cpuTimeMs(pid: number): number | undefined {
  return statCpuMs(`/proc/${pid}/stat`);
}

/** The same for the process's main (JavaScript) thread alone. */
export function mainThreadCpuTimeMs(pid: number): number | undefined {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

/**
 * CPU time of each of the process's threads by name (`comm`; "main" for the main thread, and
 * "thread <tid>" for a thread Node left unnamed, as Node 20 leaves V8's helpers and libuv's
 * pool), in milliseconds. Empty where there is no /proc.
 */
export function threadCpuTimesMs(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byName;
  }
  for (const tid of tids) {
    const ms = statCpuMs(`/proc/${pid}/task/${tid}/stat`);
    if (ms === undefined) continue;
    let name: string;
    try {
      name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    // Node 20 names every thread "node": the main thread is the one whose id is the pid.
    if (tid === String(pid)) name = 'main';
    else if (name === 'node') name = `thread ${tid}`;
    byName.set(name, (byName.get(name) ?? 0) + ms);
  }
  return byName;
}

function statCpuMs(file: string): number | undefined {
  try {
    const stat = readFileSync(file, 'utf8');
    // Fields after the command name (which may hold spaces, inside parentheses): utime is 14th, stime 15th.
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / USER_HZ : undefined;
  } catch {
    return undefined;
  }
}
