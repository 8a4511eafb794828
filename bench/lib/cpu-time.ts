/**
 * A process's CPU time (user + system, every thread) from `/proc/<pid>/stat`, in
 * milliseconds; undefined where there is no /proc (or the process is gone). Read before and
 * after a timed window, it gives the server's CPU time per request: unlike throughput, it
 * hardly moves with what else the machine is doing.
 */
import { readFileSync } from 'node:fs';

const USER_HZ = 100; // clock ticks per second of /proc/<pid>/stat on Linux

export function cpuTimeMs(pid: number): number | undefined {
  return statCpuMs(`/proc/${pid}/stat`);
}

/** The same for the process's main (JavaScript) thread alone. */
export function mainThreadCpuTimeMs(pid: number): number | undefined {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
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
