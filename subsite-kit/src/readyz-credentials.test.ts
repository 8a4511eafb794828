/**
 * The kit's /readyz when the site's Redis refuses its password (changed on the server under a
 * running site): it said only "store unreachable", which sends an operator to the network and
 * the server. Now it says the credentials are refused and where the site sets them, as the hub's
 * /readyz does, never the password.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, Socket } from 'node:net';
import express from 'express';
import { createClient } from 'redis';
import request from 'supertest';
import { createSubsiteKit } from './kit.js';
import type { RedisClient } from './options.js';
import { kitOptions } from './test-support/site.js';
import { RECOMMENDED_CLIENT_OPTIONS } from './test-support/redis.js';
import { expectCredentialsRefused } from './test-support/readyz-refusal.js';

const PASSWORD = `site-${randomUUID()}`;
const CHANGED = `changed-${randomUUID()}`;
let server: ChildProcess;
let port: number;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolve(free));
    });
  });
}

/** Whether the server answers on `port` (PONG, or NOAUTH: it asks for the password). */
async function answers(at: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
    socket.connect(at, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

beforeAll(async () => {
  port = await freePort();
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', PASSWORD], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(await answers(port)); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
}, 20_000);

afterAll(async () => {
  // Stopped by its own PID.
  if (server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
});

/** `CONFIG SET requirepass`, then every other client cut off, as a restart with a new password would. */
async function setPassword(from: string, to: string): Promise<void> {
  const admin = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, password: from });
  admin.on('error', () => undefined);
  await admin.connect();
  await admin.sendCommand(['CONFIG', 'SET', 'requirepass', to]);
  await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
  await admin.destroy();
}

it('the password changed on the server under a running site: /readyz says the credentials are refused, where to fix them, never a password', async () => {
  const redis = createClient({ url: `redis://:${PASSWORD}@127.0.0.1:${port}`, ...RECOMMENDED_CLIENT_OPTIONS });
  redis.on('error', () => undefined);
  await redis.connect();
  const sso = await createSubsiteKit({ ...kitOptions(undefined), redis: redis as unknown as RedisClient, redisPrefix: `readyz-${randomUUID()}:` });
  const app = express().use(sso.healthRoutes({ timeoutMs: 1_000 }));
  try {
    await expectCredentialsRefused(app, { old: PASSWORD, changed: CHANGED, set: setPassword }, { readyAgainTries: 40 });
  } finally {
    await redis.destroy();
  }
}, 30_000);

it('a server that does not answer at all is still "store unreachable"', async () => {
  const redis = createClient({ url: `redis://:${PASSWORD}@127.0.0.1:${port}`, ...RECOMMENDED_CLIENT_OPTIONS });
  redis.on('error', () => undefined);
  await redis.connect();
  const sso = await createSubsiteKit({ ...kitOptions(undefined), redis: redis as unknown as RedisClient, redisPrefix: `readyz-${randomUUID()}:` });
  const app = express().use(sso.healthRoutes({ timeoutMs: 500 }));
  server.kill('SIGSTOP');
  try {
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.reasons).toEqual(['store unreachable']);
  } finally {
    server.kill('SIGCONT');
    await redis.destroy();
  }
}, 30_000);
