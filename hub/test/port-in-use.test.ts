import { TEST_REDIS_URL } from '../src/testing/test-hub.js';
/**
 * A port that is taken stops start-up with one line naming the port and the variable to
 * change, and a non-zero exit: no "Unhandled 'error' event" stack trace.
 */
import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/testing/hub-process.js';

// Each test starts a hub process (tsx compiles it): slow on a loaded machine.
jest.setTimeout(120_000);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A plain TCP server on a free loopback port: what "something else listens there" looks like. */
async function occupy(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

/** Runs `hub/src/main.ts` with the embedded store and `env` until it exits. */
function runHub(env: Record<string, string>): Promise<{ code: number | string; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'hub/src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HUB_HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // A hub that does not stop is a failure too: it would be listening, not reporting the port.
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, output });
    }),
  );
}

function expectNoStack(output: string): void {
  expect(output).not.toContain('node:events');
  expect(output).not.toContain('Unhandled');
  expect(output).not.toMatch(/^\s+at /m);
}

describe('a port in use at start-up', () => {
  let taken: { port: number; server: Server };
  beforeEach(async () => {
    taken = await occupy();
  });
  afterEach(async () => {
    await new Promise((resolve) => taken.server.close(resolve));
  });

  test('HUB_PORT taken: one line naming the port and HUB_PORT, exit code 1', async () => {
    const { port } = taken;
    const { code, output } = await runHub({ HUB_PORT: String(port), HUB_ISSUER: `http://127.0.0.1:${port}` });
    expect(code).toBe(1);
    expect(output).toContain(`hub: port ${port} (HUB_PORT) is already in use: stop what listens there or set HUB_PORT`);
    expectNoStack(output);
  });

  test('METRICS_PORT taken: one line naming the port and METRICS_PORT, exit code 1', async () => {
    const hubPort = await freePort();
    const { code, output } = await runHub({ HUB_PORT: String(hubPort), HUB_ISSUER: `http://127.0.0.1:${hubPort}`, METRICS_PORT: String(taken.port), LOG_LEVEL: 'info' });
    expect(code).toBe(1);
    expect(output).toContain(`hub metrics: port ${taken.port} (METRICS_PORT) is already in use: stop what listens there or set METRICS_PORT`);
    // Found before the hub's own port listens (an operator review: "hub listening" and connections taken, then exit 1).
    expect(output).not.toContain('"msg":"hub listening"');
    expectNoStack(output);
  });
});

describe('a Redis that does not answer at start-up', () => {
  test('one line naming where Redis was looked for and the variables to check, exit code 1', async () => {
    // A review: it said only "the session store is unavailable (connect ECONNREFUSED 127.0.0.1:1)".
    const hubPort = await freePort();
    const { code, output } = await runHub({ HUB_PORT: String(hubPort), HUB_ISSUER: `http://127.0.0.1:${hubPort}`, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(code).toBe(1);
    expect(output).toMatch(/Redis 127\.0\.0\.1:1 \(single\) did not answer \(no reply at all, so no password was refused\): is it running and reachable, and are REDIS_URL \(or REDIS_CLUSTER_NODES \/ REDIS_SENTINELS\) right\? \(.*ECONNREFUSED/);
    expectNoStack(output);
  });

  test('a Redis host name that does not resolve: said as that, naming the variable, not as a server that did not answer (an operator review)', async () => {
    const hubPort = await freePort();
    const { code, output } = await runHub({ HUB_PORT: String(hubPort), HUB_ISSUER: `http://127.0.0.1:${hubPort}`, REDIS_URL: 'redis://no-such-redis.invalid:6379' });
    expect(code).toBe(1);
    expect(output).toMatch(/the host name no-such-redis\.invalid does not resolve here \(DNS .*\): check the host in REDIS_URL/);
    expect(output).not.toMatch(/is it running and reachable/);
    expectNoStack(output);
  });

  test('a plain Redis given as a sentinel or as a cluster node: says what it is and which variable to use', async () => {
    // An outside operator review: "did not answer (could not connect to Redis in time)" after 10 s,
    // and "All the root nodes are unavailable", although the Redis answered.
    const { hostname, port } = new URL(TEST_REDIS_URL);
    const plain = `${hostname}:${port || 6379}`;
    const hubPort = await freePort();
    const base = { HUB_PORT: String(hubPort), HUB_ISSUER: `http://127.0.0.1:${hubPort}` };
    const sentinel = await runHub({ ...base, REDIS_SENTINELS: plain, REDIS_SENTINEL_NAME: 'mymaster' });
    expect(sentinel.code).toBe(1);
    expect(sentinel.output).toMatch(/answers as a Redis server \(redis_mode standalone\), not as a sentinel: REDIS_SENTINELS lists the sentinels/);
    expectNoStack(sentinel.output);
    const cluster = await runHub({ ...base, REDIS_CLUSTER_NODES: plain });
    expect(cluster.code).toBe(1);
    expect(cluster.output).toMatch(/answers as a Redis server without cluster mode \(cluster_enabled:0\): REDIS_CLUSTER_NODES lists the nodes of a Redis Cluster/);
    expectNoStack(cluster.output);
  }, 60_000);
});
