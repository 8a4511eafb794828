/**
 * An outside SRE review (Redis operations): under `maxmemory-policy allkeys-lru` Redis silently
 * evicted users, clients and the seed marker while /readyz stayed 200 and nothing was logged; a
 * password changed on Redis was logged as "The client is offline" and /readyz said "check
 * REDIS_URL"; the admin CLI against a Redis out of memory said it "did not answer". Each test runs
 * on a redis-server of its own (CONFIG SET never touches the shared one).
 */
import { createClient } from 'redis';
import { connectRedis, RedisStore } from '../src/store/redis.js';
import { unreachableRedisMessage } from '../src/store/index.js';
import { StoreUnavailableError } from '../src/store/store.js';
import { captureLogger, type LoggedLine } from '../src/testing/capture-logger.js';
import { startOwnRedis, type OwnRedis } from '../src/testing/redis-server.js';
import { startTestHub } from '../src/testing/test-hub.js';

const policyErrors = (lines: LoggedLine[]) => lines.filter((line) => line.level === 'error' && /maxmemory-policy/.test(line.message));

const adminClient = (url: string) => createClient({ url });

interface OwnRedisRun {
  redis: OwnRedis;
  admin: ReturnType<typeof adminClient>;
  store: RedisStore;
  lines: LoggedLine[];
  logger: ReturnType<typeof captureLogger>['logger'];
}

/** Runs `test` on a redis-server of its own, with an admin client, the hub's store on it and a capturing logger; stops them all after. */
async function withOwnRedis(test: (run: OwnRedisRun) => Promise<void>): Promise<void> {
  const redis = await startOwnRedis();
  const admin = adminClient(redis.url);
  admin.on('error', () => {});
  await admin.connect();
  const store = new RedisStore(await connectRedis(redis.url));
  try {
    await test({ redis, admin, store, ...captureLogger() });
  } finally {
    await store.close().catch(() => undefined);
    await admin.quit().catch(() => undefined);
    await redis.stop();
  }
}

test('maxmemory-policy allkeys-lru: an error naming the policy and what to do at start, once, a gauge at 0; noeviction again: said, and the gauge at 1', () => withOwnRedis(async ({ admin, store, lines, logger }) => {
  await admin.configSet('maxmemory-policy', 'allkeys-lru');
  const hub = await startTestHub('redis', {}, store, logger);
  try {
    const errors = policyErrors(lines);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/set maxmemory-policy noeviction: with allkeys-lru Redis deletes users, clients and rate-limit counters when memory runs out; README 'What Redis holds'/);
    const metric = async () => /^sso_redis_eviction_policy_safe (\d)/m.exec((await hub.services.metrics.exposition()).body)?.[1];
    expect(await metric()).toBe('0');
    // Not a readiness reason (a fleet on a managed Redis would all leave the load balancer).
    expect((await hub.services.owned.readiness()).ready).toBe(true);
    // Every check reads it again; the same policy is not said again.
    await hub.services.owned.readiness();
    expect(policyErrors(lines)).toHaveLength(1);

    // Memory runs out: Redis evicts, and the next check warns of it (INFO stats evicted_keys).
    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
    await admin.configSet('maxmemory', String(used + 300_000));
    for (let i = 0; i < 1_000; i += 1) await admin.set(`junk:${i}`, 'x'.repeat(1_000));
    expect(Number(/evicted_keys:(\d+)/.exec(await admin.info('stats'))![1])).toBeGreaterThan(0);
    await admin.configSet('maxmemory', '0');
    await hub.services.owned.readiness();
    expect(lines.filter((line) => line.level === 'warn' && /^Redis evicted \d+ more keys/.test(line.message))).toHaveLength(1);

    await admin.configSet('maxmemory-policy', 'volatile-ttl');
    await hub.services.owned.readiness();
    expect(policyErrors(lines)).toHaveLength(2);
    expect(policyErrors(lines)[1]!.message).toMatch(/with volatile-ttl Redis deletes/);

    await admin.configSet('maxmemory-policy', 'noeviction');
    await hub.services.owned.readiness();
    expect(policyErrors(lines)).toHaveLength(2);
    expect(lines.some((line) => line.level === 'info' && /maxmemory-policy is noeviction again/.test(line.message))).toBe(true);
    expect(await metric()).toBe('1');
  } finally {
    await hub.close();
  }
}));

test('maxmemory-policy noeviction from the start: nothing said, the gauge at 1', () => withOwnRedis(async ({ admin, store, lines, logger }) => {
  await admin.configSet('maxmemory-policy', 'noeviction');
  const hub = await startTestHub('redis', {}, store, logger);
  try {
    await hub.services.owned.readiness();
    expect(lines.filter((line) => /maxmemory-policy|evicted/.test(line.message))).toEqual([]);
    expect((await hub.services.metrics.exposition()).body).toMatch(/^sso_redis_eviction_policy_safe 1/m);
  } finally {
    await hub.close();
  }
}));

test('a password set on Redis while the hub runs: the log and /readyz name the authentication failure, never the password', () => withOwnRedis(async ({ admin, store, lines, logger }) => {
  const password = 'rotated-pass-7f3a';
  const hub = await startTestHub('redis', {}, store, logger);
  try {
    expect((await hub.services.owned.readiness()).ready).toBe(true);
    await admin.configSet('requirepass', password);
    await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
    // The hub's client reconnects and is refused: waited for until /readyz says so (before, 300 ms
    // after the first "not ready", which a reconnect on a loaded machine can take longer than).
    const deadline = Date.now() + 10_000;
    let readiness = await hub.services.owned.readiness();
    while (!/credentials/.test(readiness.reasons.join(' ')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      readiness = await hub.services.owned.readiness();
    }
    expect(readiness.ready).toBe(false);
    expect(readiness.reasons.join(' ')).toMatch(/credentials.*NOAUTH or WRONGPASS/);
    const logged = JSON.stringify(lines);
    expect(logged).toMatch(/NOAUTH|WRONGPASS/);
    expect(lines.some((line) => line.level === 'warn' && /^Redis connection error: Redis refuses this hub’s credentials/.test(line.message))).toBe(true);
    expect(logged).not.toContain(password);
    // Rate-limited: one line per distinct message per 30 s, however often the client retries.
    const connectionLines = lines.filter((line) => /^Redis connection error/.test(line.message));
    expect(new Set(connectionLines.map((line) => String(line.fields.error))).size).toBe(connectionLines.length);
  } finally {
    // The password removed again: the client reconnects (the clean-up needs it) and the hub is ready again.
    await admin.configSet('requirepass', '');
    const back = Date.now() + 10_000;
    while (!(await hub.services.owned.readiness()).ready && Date.now() < back) await new Promise((resolve) => setTimeout(resolve, 200));
    await hub.close();
  }
}));

describe('unreachableRedisMessage (the admin CLI and the start)', () => {
  const target = { kind: 'single' as const, url: 'redis://:s3cret-pw@127.0.0.1:1/0' };

  test('Redis out of memory (noeviction at maxmemory): says so, not "did not answer"', async () => {
    const cause = new Error("OOM command not allowed when used memory > 'maxmemory'.");
    const message = await unreachableRedisMessage(target, cause);
    expect(message).toMatch(/out of memory/);
    expect(message).toMatch(/raise maxmemory or free memory/);
    expect(message).not.toMatch(/did not answer/);
    // As the CLI hands it: the StoreUnavailableError's cause, or the error itself.
    expect(await unreachableRedisMessage(target, new StoreUnavailableError(cause))).toMatch(/out of memory/);
  });

  test('Redis refusing the password: says so, without the password', async () => {
    const message = await unreachableRedisMessage(target, new Error('WRONGPASS invalid username-password pair or user is disabled.'));
    expect(message).toMatch(/refused the credentials \(WRONGPASS/);
    expect(message).not.toContain('s3cret-pw');
  });

  test('an ACL user named like a word: its name is left as it is, so Redis\'s own text stays readable (an operator review: "invalid ***name-password pair or *** is disabled")', async () => {
    const named = { kind: 'single' as const, url: 'redis://user:s3cret-pw@127.0.0.1:1/0' };
    const message = await unreachableRedisMessage(named, new Error('WRONGPASS invalid username-password pair or user is disabled.'));
    expect(message).toContain('WRONGPASS invalid username-password pair or user is disabled.');
    expect(message).not.toContain('s3cret-pw');
  });
});
