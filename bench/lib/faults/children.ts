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
  /** Passwords no process may print (`leaks` counts where one was seen: every byte of output is looked at, not only what is kept). */
  readonly secrets: string[] = [];
  readonly leaks = new Map<string, number>();

  /** Counts each of `secrets` in `text` against `name` (`text` may be a chunk: the caller keeps an overlap). */
  noteLeaks(name: string, text: string): void {
    for (const secret of this.secrets) if (text.includes(secret)) this.leaks.set(name, (this.leaks.get(name) ?? 0) + text.split(secret).length - 1);
  }

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
    let tail = '';
    const keep = (chunk: Buffer) => {
      const text = chunk.toString();
      // The end of the previous chunk too, for a password cut in two; counted once: the overlap is shorter than any password.
      if (this.secrets.length) this.noteLeaks(name, tail + text);
      tail = text.slice(-Math.max(0, ...this.secrets.map((secret) => secret.length - 1)));
      out = (out + text).slice(-200_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.output = () => out;
    this.started.push(child);
    child.once('exit', (code, signal) => this.notes.push(`${name} (pid ${child.pid}) exited: ${code ?? signal}`));
    return child;
  }

  /**
   * A redis-server without persistence on `port`, once it answers PING (a NOAUTH reply counts:
   * one started with `--requirepass` answers so); `extra`: more of its options.
   */
  async redisServer(name: string, port: number, extra: string[]): Promise<LoggedChild> {
    const child = this.spawn(name, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], {});
    for (let i = 0; i < 100 && !(await answers(port)); i += 1) await sleep(50);
    if (!(await answers(port))) throw new Error(`redis-server did not start on ${port}`);
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

/** A server (or sentinel) on 127.0.0.1:`port` replies to PING within half a second: PONG, or NOAUTH when it wants a password. */
const answers = (port: number) => answersPing(port, { passwordAsked: true });

/** The password redis-cli gives each port that has one (a tool with passwords on its servers sets them). */
export const redisCliPasswords = new Map<number, string>();

/** redis-cli against the server on `port`, its answer (stdout and stderr) as text; its password through REDISCLI_AUTH, never on the command line. */
export function redisCliAt(port: number, ...args: string[]): string {
  const password = redisCliPasswords.get(port);
  // Room for a whole log (spawnSync keeps 1 MB by default and cuts the rest off silently).
  const result = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', maxBuffer: 1024 * 2 ** 20, ...(password ? { env: { ...process.env, REDISCLI_AUTH: password } } : {}) });
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
