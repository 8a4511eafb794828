/**
 * The processes a fault tool starts: each spawned with its output kept (the last 200 kB) and its
 * exit noted, all stopped by their PIDs at the end, and none left behind whatever ends the tool.
 * With the waits they need: an HTTP readiness URL, a redis-server answering PING.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { answersPing } from '../../../hub/src/testing/redis-server.js';

/** The repository: every process runs from its root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export type LoggedChild = ChildProcess & { output: () => string };

export const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

export class Children {
  readonly started: ChildProcess[] = [];

  /** `notes`: where each exit is written (`name (pid N) exited: code`). */
  constructor(private readonly notes: string[]) {
    // Whatever ends the tool (an error while starting included), nothing it started outlives it.
    process.once('exit', () => {
      for (const child of this.started) if (alive(child)) child.kill('SIGKILL');
    });
  }

  spawn(name: string, cmd: string, args: string[], env: Record<string, string>): LoggedChild {
    const child = spawn(cmd, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }) as LoggedChild;
    let out = '';
    const keep = (chunk: Buffer) => (out = (out + chunk.toString()).slice(-200_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.output = () => out;
    this.started.push(child);
    child.once('exit', (code, signal) => this.notes.push(`${name} (pid ${child.pid}) exited: ${code ?? signal}`));
    return child;
  }

  /** A redis-server without persistence on `port`, once it answers PING; `extra`: more of its options. */
  async redisServer(name: string, port: number, extra: string[]): Promise<LoggedChild> {
    const child = this.spawn(name, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], {});
    for (let i = 0; i < 100 && !(await answersPing(port)); i += 1) await sleep(50);
    if (!(await answersPing(port))) throw new Error(`redis-server did not start on ${port}`);
    return child;
  }

  /** SIGTERM to each, last started first, SIGKILL after 15 s. */
  async stopAll(): Promise<void> {
    for (const child of [...this.started].reverse()) {
      if (alive(child)) {
        const exit = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exit, sleep(15_000)]);
        if (alive(child)) child.kill('SIGKILL');
      }
    }
  }
}

/** redis-cli against the server on `port`, its answer (stdout and stderr) as text. */
export function redisCliAt(port: number, ...args: string[]): string {
  // Room for a whole log (spawnSync keeps 1 MB by default and cuts the rest off silently).
  const result = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', maxBuffer: 1024 * 2 ** 20 });
  return `${result.stdout}${result.stderr}`.trim();
}

export async function waitFor(url: string, withinMs: number, child?: { output: () => string }): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // not yet
    }
    await sleep(200);
  }
  throw new Error(`${url} was not ready within ${withinMs} ms${child ? `; its output:\n${child.output().slice(-4_000)}` : ''}`);
}
