/**
 * A hub started on a Redis Cluster that answers but does not serve every hash slot: nodes
 * started with `cluster-enabled yes` whose `redis-cli --cluster create` has not run yet (the
 * failover review started a hub before forming the cluster), or a cluster with a slot range
 * left out. Before, node-redis connected, the first command on an unserved slot threw a TypeError
 * from its slot map, and the hub exited 1 printing only "Cannot read properties of undefined
 * (reading 'replicas')". Now start-up fails naming the cluster, the slots no master serves, and
 * what to do.
 */
import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../main.js';
import { freePort } from '../testing/hub-process.js';
import { launch, type Spawned } from '../testing/redis-server.js';
import { unreachableRedisMessage } from './index.js';
import { connectRedis } from './redis-client.js';
import { StoreUnavailableError } from './store.js';

jest.setTimeout(60_000);

let dir: string;
const nodes: Spawned[] = [];

function cli(port: number, ...args: string[]): string {
  return spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sso-unformed-'));
  for (let i = 0; i < 3; i += 1) {
    nodes.push(await launch((port) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000'], dir, 'cluster node'));
  }
});

afterAll(async () => {
  for (const { child } of nodes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(nodes.map((node) => node.exited));
  await rm(dir, { recursive: true, force: true });
});

const target = () => ({ kind: 'cluster' as const, nodes: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })) });
const env = async () => ({ REDIS_CLUSTER_NODES: nodes.map((node) => `127.0.0.1:${node.port}`).join(','), HUB_PORT: String(await freePort()), LOG_LEVEL: 'silent', KEY_PREFIX: 'unformed:' });

test('cluster nodes never joined (no slots assigned): the start fails saying the cluster is not formed, not a TypeError from node-redis', async () => {
  const error = await connectRedis(target()).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StoreUnavailableError);
  const message = await unreachableRedisMessage(target(), (error as StoreUnavailableError).cause);
  expect(message).toMatch(/^Redis 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+ \(cluster\) answered, but the cluster is not serving: no master serves hash slots 0-16383 \(of 0-16383\)\. A new cluster must be formed first \(redis-cli --cluster create/);
  await expect(main(await env())).rejects.toThrow(/the cluster is not serving: no master serves hash slots 0-16383/);
  await expect(main(await env())).rejects.not.toThrow(/Cannot read properties/);
});

test('a cluster with a slot range no master serves: the start names the range', async () => {
  const [a, b, c] = nodes.map((node) => node.port) as [number, number, number];
  cli(a, 'CLUSTER', 'ADDSLOTSRANGE', '0', '5460');
  cli(b, 'CLUSTER', 'ADDSLOTSRANGE', '5461', '10922');
  cli(a, 'CLUSTER', 'MEET', '127.0.0.1', String(b));
  cli(a, 'CLUSTER', 'MEET', '127.0.0.1', String(c));
  const deadline = Date.now() + 20_000;
  while (!cli(c, 'CLUSTER', 'NODES').includes('5461-10922') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  await expect(main(await env())).rejects.toThrow(/the cluster is not serving: no master serves hash slots 10923-16383 \(of 0-16383\)/);
});
