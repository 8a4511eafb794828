import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const SERVERS_DIR = fileURLToPath(new URL('../servers/', import.meta.url));
const READY_TIMEOUT_MS = 60_000; // a hub with 100 users and 100 subsites starts in a few seconds
const STOP_TIMEOUT_MS = 10_000;

/** Whether `taskset` (util-linux) can pin processes here. */
export const canPin = spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;

/** The core servers under test run on; the load generator takes another one. */
export const SERVER_CPU = '0';
export const LOADGEN_CPU = '1';

/** Pins this process (every thread) to the load generator's core, where taskset exists. */
export function pinSelf(): boolean {
  if (!canPin) return false;
  return spawnSync('taskset', ['-a', '-p', '-c', LOADGEN_CPU, String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/** A free loopback port, to hand a server its URL before it starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function command(file: string, nodeArgs: string[]): [string, string[]] {
  const node = [...nodeArgs, '--import', 'tsx', `${SERVERS_DIR}${file}`];
  return canPin ? ['taskset', ['-c', SERVER_CPU, process.execPath, ...node]] : [process.execPath, node];
}

export interface ServerProcess {
  name: string;
  url: string;
  info: Record<string, unknown>;
  stop(): Promise<void>;
}

/** Node flags for a server, e.g. `--cpu-prof` when `BENCH_CPU_PROF` names it (or is `all`). */
function nodeArgsFor(name: string, profileDir: string | undefined): string[] {
  const wanted = process.env.BENCH_CPU_PROF;
  if (!profileDir || !wanted || (wanted !== 'all' && !wanted.split(',').includes(name))) return [];
  // One folder per server; V8 names the files (one per thread: the main one is the largest).
  return ['--cpu-prof', '--cpu-prof-dir', `${profileDir}/${name}`];
}

/**
 * Starts `bench/servers/<file>` pinned to the server core and waits for its
 * `BENCH_READY {json}` line. Its stderr is kept and shown if it fails.
 */
export async function startServer(name: string, file: string, env: Record<string, string>, profileDir?: string): Promise<ServerProcess> {
  const [cmd, args] = command(file, nodeArgsFor(name, profileDir));
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8_000);
  });
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start in time\n${stderr}`)), READY_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l) => l.startsWith('BENCH_READY '));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice('BENCH_READY '.length)) as Record<string, unknown>);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready\n${stderr}`));
    });
  });
  child.removeAllListeners('exit');
  return { name, url: `http://127.0.0.1:${String(info.port)}`, info, stop: () => stop(child) };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Runs a pinned one-shot bench process and returns the JSON of its `BENCH_RESULT` line. */
export async function runPinned(file: string, env: Record<string, string>): Promise<Record<string, unknown>> {
  const [cmd, args] = command(file, []);
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8_000)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (code !== 0 || !line) throw new Error(`${file} failed (exit ${code})\n${stderr}`);
  return JSON.parse(line.slice('BENCH_RESULT '.length)) as Record<string, unknown>;
}
