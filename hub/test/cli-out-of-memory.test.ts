/**
 * The admin CLI against a Redis at `maxmemory` under noeviction (it answers every write at once
 * with `OOM command not allowed …`). A soak run's `users enable` during such a fault printed
 * "… answered when the command began, then did not answer in time (no password was refused); it
 * answers again now: it was busy or changing, as during a failover or a restart": Redis had
 * answered, with a refusal, and the operator was sent to look for a failover. It says now that
 * Redis is out of memory and what to do, as the CLI does when the store is full at connect and as
 * the hub's `/readyz` does.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { runCli } from '../src/cli.js';
import { startOwnRedis, type OwnRedis } from '../src/testing/redis-server.js';

let redis: OwnRedis;
let env: Record<string, string>;

beforeAll(async () => {
  redis = await startOwnRedis();
  env = { LOG_LEVEL: 'error', REDIS_URL: redis.url, KEY_PREFIX: `cli-oom-${randomUUID()}:` };
}, 30_000);

afterAll(async () => {
  await redis.stop();
});

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runCli([...argv, '--new-prefix'], env, (line) => lines.push(line), () => undefined);
  return { code, out: lines.join('\n') };
}

async function configSet(name: string, value: string): Promise<void> {
  const admin = createClient({ url: redis.url });
  await admin.connect();
  try {
    await admin.configSet(name, value);
  } finally {
    await admin.close();
  }
}

test('`users disable` while Redis refuses writes for memory: says Redis is out of memory, not that it did not answer in time', async () => {
  expect((await cli('users', 'add', '--username', 'alice', '--email', 'alice@example.test', '--password', 'correct horse battery staple')).code).toBe(0);
  await configSet('maxmemory-policy', 'noeviction');
  await configSet('maxmemory', '1');
  let run: { code: number; out: string };
  try {
    run = await cli('users', 'disable', 'alice');
  } finally {
    await configSet('maxmemory', '0');
  }
  expect(run.code).toBe(1);
  expect(run.out).toMatch(/out of memory and refuses writes \(maxmemory reached, eviction off\): raise maxmemory or free memory on the Redis server/);
  expect(run.out).not.toMatch(/did not answer in time|busy or changing/);
  // Once Redis has room again, the same command goes through.
  expect((await cli('users', 'disable', 'alice')).code).toBe(0);
}, 60_000);
