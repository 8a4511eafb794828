/**
 * REDIS_URL naming a read-only replica (a managed Redis's reader endpoint, a former primary after
 * a failover): the hub used to listen, then stay not ready saying only "the store is unavailable:
 * check REDIS_URL", and the CLI said the same of its first write (an operator review). Now the
 * start and the CLI refuse, naming the replica and its primary, and /readyz names READONLY.
 */
import { jest } from '@jest/globals';
import { main } from '../src/main.js';
import { storeProblem } from '../src/owned-state.js';
import { cliHarness } from '../src/testing/cli-harness.js';
import { freePort } from '../src/testing/hub-process.js';
import { startOwnRedis, type OwnRedis } from '../src/testing/redis-server.js';
import { closeRedis, connectRedis } from '../src/store/redis-client.js';

jest.setTimeout(120_000);

let primary: OwnRedis;
let replica: OwnRedis;
const portOf = (url: string) => new URL(url).port;

beforeAll(async () => {
  primary = await startOwnRedis();
  replica = await startOwnRedis();
  const client = await connectRedis(replica.url);
  try {
    await client.sendCommand(['REPLICAOF', '127.0.0.1', portOf(primary.url)]);
  } finally {
    await closeRedis(client);
  }
});

afterAll(async () => {
  await replica?.stop();
  await primary?.stop();
});

test('a hub started on a replica stops at start, naming it and its primary', async () => {
  await expect(main({ REDIS_URL: replica.url, HUB_PORT: String(await freePort()), LOG_LEVEL: 'silent' })).rejects.toThrow(
    `Redis 127.0.0.1:${portOf(replica.url)} (single) answered, but is a read-only replica (of 127.0.0.1:${portOf(primary.url)}): it refuses every write (READONLY); point REDIS_URL at the primary`,
  );
});

test('the CLI on a replica refuses before any command runs', async () => {
  const { run, cleanUp } = cliHarness({ REDIS_URL: replica.url, KEY_PREFIX: 'replica-test:' });
  try {
    const listed = await run('users', 'list');
    expect(listed.code).toBe(1);
    expect(listed.out).toContain(`is a read-only replica (of 127.0.0.1:${portOf(primary.url)})`);
  } finally {
    await cleanUp().catch(() => undefined);
  }
});

test('/readyz names READONLY, not an unreachable store', () => {
  expect(storeProblem(new Error("READONLY You can't write against a read only replica."))).toContain('Redis answers READONLY, a read-only replica: point REDIS_URL at the primary');
});
