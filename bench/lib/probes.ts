/**
 * Bench-only probes inside a server under test, reached through `/__bench/…` (see
 * counting.ts): memory after a forced collection, and a CPU profile of exactly the timed
 * window (started and stopped by the load generator, not the process's whole life).
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Session } from 'node:inspector/promises';
import { writeHeapSnapshot } from 'node:v8';

export interface MemorySample {
  /** Resident set size, bytes. */
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Whether a full collection ran first (the server was started with --expose-gc). */
  collected: boolean;
}

/** Two full collections (the second frees what the first's finalizers let go), then the figures. */
export function memoryAfterGc(): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external, arrayBuffers: usage.arrayBuffers, collected: Boolean(gc) };
}

/** Writes a heap snapshot of this process to `file` (after two collections), for bench/tools/heap-top.ts. */
export async function heapSnapshot(file: string): Promise<string> {
  memoryAfterGc();
  await mkdir(dirname(file), { recursive: true });
  return writeHeapSnapshot(file);
}

let session: Session | undefined;

/** Starts V8's sampling profiler in this process (the timed window begins). */
export async function startProfile(): Promise<void> {
  if (session) return;
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
}

/** Stops the profiler and writes the `.cpuprofile` to `file` (the timed window ended). */
export async function stopProfile(file: string): Promise<boolean> {
  if (!session) return false;
  const current = session;
  session = undefined;
  const { profile } = await current.post('Profiler.stop');
  current.disconnect();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(profile));
  return true;
}
