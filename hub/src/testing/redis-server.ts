import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { freePort } from './hub-process.js';

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

export interface OwnRedis {
  url: string;
  process: ChildProcess;
  /** SIGSTOP: the server keeps its connections but answers nothing (a stalled store). */
  pause(): void;
  resume(): void;
  /** Stops the server (by its PID) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * A redis-server of the test's own, on a free port, with nothing on disk: for tests that stop
 * or stall their store without touching the shared Redis.
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 100 && !(await answersPing(port)); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  if (!(await answersPing(port))) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${port}`);
  }
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    process: child,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop() {
      if (stopped) return;
      stopped = true;
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
