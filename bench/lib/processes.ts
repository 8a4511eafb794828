import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { answersPing } from '../../hub/src/testing/redis-server.js';

const SERVERS_DIR = fileURLToPath(new URL('../servers/', import.meta.url));
const READY_TIMEOUT_MS = 600_000; // a hub with 1,000 subsites takes a while on a loaded machine
const STOP_TIMEOUT_MS = 10_000;

/** Whether `taskset` (util-linux) can pin processes here. */
export const canPin = spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;

/**
 * Which core does what. Servers under test: core 0. With 3 or more cores Redis gets core 1
 * to itself and the load generator the rest; with 2, Redis shares core 1 with the load
 * generator (there is no third core), which the report says.
 */
export interface CoreLayout {
  cores: number;
  server: string;
  redis: string;
  loadGenerator: string;
  /** Whether Redis has a core no other bench process uses. */
  redisAlone: boolean;
  pinned: boolean;
}

/**
 * The argon2id turns a hub on the servers' core would take by default (one per core): given to
 * every hub and to the bare argon2id baseline alike, since both start on every core and are
 * pinned only once ready, when the hub's own default would count cores it will not have.
 */
export function argon2TurnsOnServerCore(): string | undefined {
  // BENCH_ARGON2_TURNS: another number for both (to compare, e.g. 3: the pool's four threads less one).
  if (process.env.BENCH_ARGON2_TURNS) return process.env.BENCH_ARGON2_TURNS;
  return layout.pinned ? String(layout.server.split(',').length) : undefined;
}

export function coreLayout(cores = availableParallelism()): CoreLayout {
  if (cores >= 3) return { cores, server: '0', redis: '1', loadGenerator: `2-${cores - 1}`, redisAlone: true, pinned: canPin };
  if (cores === 2) return { cores, server: '0', redis: '1', loadGenerator: '1', redisAlone: false, pinned: canPin };
  return { cores, server: '0', redis: '0', loadGenerator: '0', redisAlone: false, pinned: false };
}

export const layout = coreLayout();

/** Turns pinning off (smoke runs: servers start faster spread over every core). */
export function unpin(): void {
  layout.pinned = false;
}

/** Pins this process (every thread) to the load generator's core(s), where taskset exists. */
export function pinSelf(): boolean {
  if (!layout.pinned) return false;
  return spawnSync('taskset', ['-a', '-p', '-c', layout.loadGenerator, String(process.pid)], { stdio: 'ignore' }).status === 0;
}

// BENCH_PORTS=<first>-<last>: take ports from that range only (helpers sharing a machine each have one).
const portRange = process.env.BENCH_PORTS?.split('-').map(Number);
let nextInRange = portRange?.[0] ?? 0;

/** A free loopback port, to hand a server its URL before it starts. */
export async function freePort(): Promise<number> {
  if (!portRange) return probePort(0);
  while (nextInRange <= portRange[1]!) {
    const port = await probePort(nextInRange++).catch(() => undefined);
    if (port !== undefined) return port;
  }
  throw new Error(`no free port left in BENCH_PORTS ${process.env.BENCH_PORTS}`);
}

function probePort(wanted: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(wanted, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function pinned(cpu: string, cmd: string, args: string[]): [string, string[]] {
  return layout.pinned ? ['taskset', ['-c', cpu, cmd, ...args]] : [cmd, args];
}

function nodeArgs(file: string): string[] {
  // --expose-gc: the bench's memory probe (`/__bench/memory`) collects before it reads the heap.
  return ['--expose-gc', '--import', 'tsx', `${SERVERS_DIR}${file}`];
}

/** Moves a running process, every thread of it, to `cpu` (threads it starts later follow). */
function pinProcess(pid: number, cpu: string): void {
  if (!layout.pinned) return;
  const result = spawnSync('taskset', ['-a', '-p', '-c', cpu, String(pid)], { stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`taskset could not pin process ${pid} to core ${cpu}`);
}

export interface ServerProcess {
  name: string;
  url: string;
  info: Record<string, unknown>;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `bench/servers/<file>`, waits for its `BENCH_READY {json}` line, then pins it to
 * the server core (it starts on every core, so servers that start side by side are ready
 * sooner; nothing is timed before they are ready). Its stderr is shown if it fails.
 */
export async function startServer(name: string, file: string, env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, nodeArgs(file), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8_000);
  });
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start in time\n${stderr}`));
    }, READY_TIMEOUT_MS);
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
  child.stdout!.resume();
  try {
    pinProcess(child.pid!, layout.server);
  } catch (error) {
    await stop(child);
    throw error;
  }
  return { name, url: `http://127.0.0.1:${String(info.port)}`, info, pid: child.pid!, stop: () => stop(child) };
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
  const [cmd, args] = pinned(layout.server, process.execPath, nodeArgs(file));
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

export interface BenchRedis {
  url: string;
  /** Where it runs: its own core, shared with the load generator, or not pinned. */
  placement: string;
  stop(): Promise<void>;
}

/**
 * The bench's own redis-server on a free loopback port, pinned to the Redis core, nothing on
 * disk; stopped by its PID at the end (every key goes with it).
 */
export async function startBenchRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const [cmd, args] = pinned(layout.redis, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes']);
  const child = spawn(cmd, args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let failed: Error | undefined;
  child.once('error', (error) => (failed = error));
  for (let i = 0; i < 100 && !failed && !(await answersPing(port)); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  if (failed || !(await answersPing(port))) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${port}${failed ? `: ${failed.message}` : ''}`);
  }
  const placement = !layout.pinned
    ? 'not pinned (taskset missing or 1 core)'
    : layout.redisAlone
      ? `pinned alone to core ${layout.redis}`
      : `pinned to core ${layout.redis}, shared with the load generator (${layout.cores} cores: none left for Redis alone)`;
  return {
    url: `redis://127.0.0.1:${port}`,
    placement,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
