import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = 'hub/src/main.ts';

/** A free loopback port (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether nothing listens on loopback `port` any more (a connection is refused). */
export function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

export interface HubProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** What the process wrote to stdout so far. */
  stdout(): string;
  /** Sends a signal and waits for the exit (SIGKILL after `killAfterMs`). */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<number | string>;
}

/** Polls `url` until it answers 2xx or `withinMs` passes. */
export async function waitForOk(url: string, withinMs = 30_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 2xx within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts `hub/src/main.ts` as its own process (as `docker compose` or systemd would), on a
 * free port unless `HUB_PORT` is given, and waits until it is ready. The environment is
 * exactly `env` plus PATH: nothing of the test process's own leaks in.
 */
export async function startHubProcess(env: Record<string, string>, readyPath = '/readyz', readyWithinMs = 60_000): Promise<HubProcess> {
  const port = env.HUB_PORT ? Number(env.HUB_PORT) : await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HUB_ISSUER: url, LOG_LEVEL: 'warn', ...env, HUB_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const running: HubProcess = {
    child,
    port,
    url,
    exited,
    stderr: () => err,
    stdout: () => out,
    async stop(signal = 'SIGTERM', killAfterMs = 20_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  const died = exited.then((code) => Promise.reject(new Error(`hub exited (${code}) before it was ready: ${err}`)));
  died.catch(() => undefined); // only the race below reads it; a later exit is not an error
  try {
    await Promise.race([waitForOk(`${url}${readyPath}`, readyWithinMs), died]);
  } catch (error) {
    await running.stop('SIGKILL');
    throw error;
  }
  return running;
}
