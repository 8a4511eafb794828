import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = 'hub/src/main.ts';

/**
 * Where {@link freePort} picks from: below the kernel's ephemeral range (Linux's
 * `ip_local_port_range`, 32768–60999 by default). A port the kernel hands out for `listen(0)` is
 * in that range, and so is the local port of every outgoing connection: between the pick and the
 * caller's own listen, another test's connection or server could take it (a start-up then failed
 * with "port … is already in use"). Nothing takes a port below the range unless it asks for it.
 */
function pickRange(): { from: number; to: number } | undefined {
  let low = 32_768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    // not Linux: its default range
  }
  if (!(low > 21_000)) return undefined;
  // Each jest worker picks from a slice of its own (eight slices: with more workers, two share one,
  // and the bind check below still keeps them apart).
  const worker = Number(process.env.JEST_WORKER_ID);
  if (!Number.isInteger(worker) || worker < 1) return { from: 20_000, to: low - 1 };
  const slices = 8;
  const size = Math.floor((low - 20_000) / slices);
  const from = 20_000 + ((worker - 1) % slices) * size;
  return { from, to: from + size - 1 };
}
const RANGE = pickRange();
/** Ports this process handed out, never handed out twice (a caller may not have bound its port yet). */
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free loopback port (bound, released), below the ephemeral range where there is room. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; RANGE && attempt < 100; attempt += 1) {
    const port = RANGE.from + randomInt(RANGE.to - RANGE.from + 1);
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
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
